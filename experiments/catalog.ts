/**
 * The built-in experiments, as data. Defaults are sized to finish in minutes on two cores; scale
 * clients, commands and seeds up in a copy of a definition (`orrery exp FILE.json`) for the papers'
 * sizes.
 */
import { DEFAULT_REGIONS } from '../cli/options.js';
import { validateAdapterDefinition, type AdapterDeployDefinition } from './adapter-deploy.js';
import { validateDefinition, type ExperimentDefinition, type PlotSpec, type SiteSet } from './definition.js';

const AWS_5 = ['eu-west-1', 'us-west-1', 'ap-southeast-1', 'ca-central-1', 'sa-east-1'];
const AWS_7 = [...AWS_5, 'ap-east-1', 'us-east-1'];
const GCP_5 = [...DEFAULT_REGIONS['gcp']!];

/** The Atlas paper's order of adding GCP sites (its "increasing sites" figure). */
export const ATLAS_SITE_ORDER = [
  'asia-southeast1',
  'europe-west4',
  'southamerica-east1',
  'australia-southeast1',
  'europe-west2',
  'asia-south1',
  'us-east1',
  'asia-northeast1',
  'europe-west1',
  'asia-east1',
  'us-west1',
  'europe-west3',
  'us-central1',
] as const;

const SITES_AWS_5: SiteSet = { name: 'aws-5', planet: 'aws', regions: AWS_5 };
const SITES_AWS_7: SiteSet = { name: 'aws-7', planet: 'aws', regions: AWS_7 };
const SITES_GCP_5: SiteSet = { name: 'gcp-5', planet: 'gcp', regions: GCP_5 };

/** `AWS 5 sites` from a site set. */
function siteSetTitle(sites: SiteSet): string {
  return `${sites.planet.toUpperCase()} ${sites.regions.length} sites`;
}

/** Bars per client site (and `all`), one per protocol and f: the mean, with a whisker up to the p99. */
function latencyPerSite(siteSet: string, title: string): PlotSpec {
  return { kind: 'bars', file: `latency-per-site-${siteSet}`, title, x: 'region', value: 'mean_ms', whisker: 'p99_ms', where: { site_set: siteSet } };
}

const ALL_PROTOCOLS = [
  { protocol: 'tempo', f: [1, 2] },
  { protocol: 'atlas', f: [1, 2] },
  { protocol: 'epaxos' },
  { protocol: 'fpaxos', f: [1, 2] },
] as const;

const LEADERLESS = [{ protocol: 'tempo', f: [1, 2] }, { protocol: 'atlas', f: [1, 2] }, { protocol: 'epaxos' }] as const;

const F1_VS_F2: ExperimentDefinition = {
  name: 'f1-vs-f2',
  description:
    'Per-site mean and p99 latency of Tempo, Atlas (f=1, f=2), EPaxos and FPaxos (f=1, f=2) at 2% conflict on AWS 5 and 7 sites and GCP 5 sites, and what f=2 costs over f=1 per protocol.',
  siteSets: [SITES_AWS_5, SITES_AWS_7, SITES_GCP_5],
  protocols: ALL_PROTOCOLS,
  conflictPct: [2],
  clientsPerRegion: [10],
  commandsPerClient: 200,
  seeds: [1],
  tables: [
    { title: 'EPaxos (tolerates ⌊n/2⌋ failures, shown as f): mean latency (ms)', rows: ['site_set', 'f'], columns: 'label', value: 'mean_ms', where: { region: 'all', protocol: 'epaxos' } },
    { title: 'Cost of f=2 over f=1: mean latency (ms)', rows: ['site_set', 'protocol'], columns: 'f', value: 'mean_ms', where: { region: 'all', protocol: ['tempo', 'atlas', 'fpaxos'] }, delta: true },
    { title: 'Cost of f=2 over f=1: p99 latency (ms)', rows: ['site_set', 'protocol'], columns: 'f', value: 'p99_ms', where: { region: 'all', protocol: ['tempo', 'atlas', 'fpaxos'] }, delta: true },
    { title: 'AWS 5 sites: mean latency per site (ms)', rows: ['label'], columns: 'region', value: 'mean_ms', where: { site_set: 'aws-5' } },
    { title: 'AWS 5 sites: p99 latency per site (ms)', rows: ['label'], columns: 'region', value: 'p99_ms', where: { site_set: 'aws-5' } },
    { title: 'AWS 7 sites: mean latency per site (ms)', rows: ['label'], columns: 'region', value: 'mean_ms', where: { site_set: 'aws-7' } },
    { title: 'AWS 7 sites: p99 latency per site (ms)', rows: ['label'], columns: 'region', value: 'p99_ms', where: { site_set: 'aws-7' } },
    { title: 'GCP 5 sites: mean latency per site (ms)', rows: ['label'], columns: 'region', value: 'mean_ms', where: { site_set: 'gcp-5' } },
    { title: 'GCP 5 sites: p99 latency per site (ms)', rows: ['label'], columns: 'region', value: 'p99_ms', where: { site_set: 'gcp-5' } },
  ],
  plots: [
    ...[SITES_AWS_5, SITES_AWS_7, SITES_GCP_5].map((sites) => latencyPerSite(sites.name, `${siteSetTitle(sites)}: latency per client site, 2% conflict (bar: mean, whisker: p99)`)),
    ...[SITES_AWS_5, SITES_AWS_7, SITES_GCP_5].map(
      (sites): PlotSpec => ({ kind: 'cdf', file: `cdf-${sites.name}`, title: `${siteSetTitle(sites)}: latency CDF over all client sites, 2% conflict`, where: { site_set: sites.name } }),
    ),
  ],
};

const FAST_PATH: ExperimentDefinition = {
  name: 'fast-path',
  description:
    'Fast-path ratio and mean latency of the leaderless protocols per f, with r=5 and r=7 GCP sites (the first of the Atlas paper order), conflict 0–100%.',
  siteSets: [
    { name: 'gcp-r5', planet: 'gcp', regions: ATLAS_SITE_ORDER.slice(0, 5) },
    { name: 'gcp-r7', planet: 'gcp', regions: ATLAS_SITE_ORDER.slice(0, 7) },
  ],
  protocols: LEADERLESS,
  conflictPct: [0, 10, 20, 40, 60, 80, 100],
  clientsPerRegion: [10],
  commandsPerClient: 100,
  seeds: [1],
  tables: [
    { title: 'Fast-path ratio, r=5', rows: ['label'], columns: 'conflict_pct', value: 'fast_ratio', where: { region: 'all', site_set: 'gcp-r5' } },
    { title: 'Fast-path ratio, r=7', rows: ['label'], columns: 'conflict_pct', value: 'fast_ratio', where: { region: 'all', site_set: 'gcp-r7' } },
    { title: 'Mean latency (ms), r=5', rows: ['label'], columns: 'conflict_pct', value: 'mean_ms', where: { region: 'all', site_set: 'gcp-r5' } },
    { title: 'Mean latency (ms), r=7', rows: ['label'], columns: 'conflict_pct', value: 'mean_ms', where: { region: 'all', site_set: 'gcp-r7' } },
  ],
  plots: [5, 7].flatMap((r): PlotSpec[] => [
    { kind: 'lines', file: `fast-path-r${r}`, title: `Fast-path ratio vs conflict, r=${r} GCP sites`, x: 'conflict_pct', y: 'fast_ratio', where: { region: 'all', site_set: `gcp-r${r}` } },
    { kind: 'lines', file: `latency-r${r}`, title: `Mean latency vs conflict, r=${r} GCP sites (whisker: p99)`, x: 'conflict_pct', y: 'mean_ms', whisker: 'p99_ms', where: { region: 'all', site_set: `gcp-r${r}` } },
  ]).concat([{ kind: 'cdf', file: 'cdf-r5-conflict-40', title: 'Latency CDF, r=5 GCP sites, 40% conflict', where: { site_set: 'gcp-r5', conflict_pct: 40 } }]),
};

const INCREASING_SITES: ExperimentDefinition = {
  name: 'increasing-sites',
  description:
    'Mean latency per protocol as GCP sites are added in the Atlas paper order (r = 3 to 13), with clients in all 13 regions, 2% conflict.',
  siteSets: [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13].map((r) => ({ name: `gcp-r${r}`, planet: 'gcp', regions: ATLAS_SITE_ORDER.slice(0, r), clientRegions: ATLAS_SITE_ORDER })),
  protocols: ALL_PROTOCOLS,
  conflictPct: [2],
  clientsPerRegion: [10],
  commandsPerClient: 100,
  seeds: [1],
  tables: [
    { title: 'Mean latency (ms) over all 13 client regions', rows: ['label'], columns: 'n', value: 'mean_ms', where: { region: 'all' } },
    { title: 'p99 latency (ms) over all 13 client regions', rows: ['label'], columns: 'n', value: 'p99_ms', where: { region: 'all' } },
  ],
  plots: [
    { kind: 'lines', file: 'latency-vs-sites', title: 'Mean latency over all 13 client regions as GCP sites are added, 2% conflict', x: 'n', y: 'mean_ms', where: { region: 'all' } },
    { kind: 'lines', file: 'p99-vs-sites', title: 'p99 latency over all 13 client regions as GCP sites are added, 2% conflict', x: 'n', y: 'p99_ms', where: { region: 'all' } },
  ],
};

const THROUGHPUT: ExperimentDefinition = {
  name: 'throughput',
  description:
    'Throughput–latency with the CPU model (results/cpu-profile.json, 1 core per process) on GCP 5 sites at 2% and 10% conflict, as clients per site grow, with the tail latency.',
  siteSets: [SITES_GCP_5],
  protocols: [{ protocol: 'tempo', f: [1] }, { protocol: 'atlas', f: [1] }, { protocol: 'epaxos' }, { protocol: 'fpaxos', f: [1] }],
  conflictPct: [2, 10],
  // Far from saturation: with the calibrated costs a protocol core saturates only at thousands of
  // clients per site, which takes hours here (docs/cpu-model.md); scale up in a definition file.
  clientsPerRegion: [16, 64, 256, 512],
  commandsPerClient: 10,
  seeds: [1],
  cpuProfile: 'results/cpu-profile.json',
  cores: 1,
  tables: [
    { title: 'Throughput (commands/s), 2% conflict', rows: ['label'], columns: 'clients_per_region', value: 'throughput_ops_per_sec', where: { region: 'all', conflict_pct: 2 } },
    { title: 'Mean latency (ms), 2% conflict', rows: ['label'], columns: 'clients_per_region', value: 'mean_ms', where: { region: 'all', conflict_pct: 2 } },
    { title: 'Throughput (commands/s), 10% conflict', rows: ['label'], columns: 'clients_per_region', value: 'throughput_ops_per_sec', where: { region: 'all', conflict_pct: 10 } },
    { title: 'Mean latency (ms), 10% conflict', rows: ['label'], columns: 'clients_per_region', value: 'mean_ms', where: { region: 'all', conflict_pct: 10 } },
    { title: 'Tail: p99 latency (ms), 2% conflict', rows: ['label'], columns: 'clients_per_region', value: 'p99_ms', where: { region: 'all', conflict_pct: 2 } },
    { title: 'Tail: p99.9 latency (ms), 2% conflict', rows: ['label'], columns: 'clients_per_region', value: 'p999_ms', where: { region: 'all', conflict_pct: 2 } },
    { title: 'Tail: p99.9 latency (ms), 10% conflict', rows: ['label'], columns: 'clients_per_region', value: 'p999_ms', where: { region: 'all', conflict_pct: 10 } },
  ],
  plots: [
    ...[2, 10].map(
      (conflict): PlotSpec => ({
        kind: 'lines',
        file: `throughput-latency-${conflict}`,
        title: `Throughput vs mean latency (whisker: p99), ${conflict}% conflict, 16–512 clients per site, CPU model`,
        x: 'throughput_ops_per_sec',
        y: 'mean_ms',
        whisker: 'p99_ms',
        where: { region: 'all', conflict_pct: conflict },
      }),
    ),
    { kind: 'cdf', file: 'cdf-512-clients-2', title: 'Latency CDF at 512 clients per site, 2% conflict, CPU model', where: { conflict_pct: 2, clients_per_region: 512 } },
  ],
};

const BOTE: ExperimentDefinition = {
  name: 'bote',
  description:
    'Closed-form (bote) fast-path estimates next to simulated means for the same configurations: AWS 5 and GCP 5 sites, every protocol and f, at 0% and 2% conflict.',
  siteSets: [SITES_AWS_5, SITES_GCP_5],
  protocols: ALL_PROTOCOLS,
  conflictPct: [0, 2],
  clientsPerRegion: [10],
  commandsPerClient: 100,
  seeds: [1],
  bote: true,
  tables: [
    { title: 'Mean over client regions (ms): bote estimate next to the simulation, 0% conflict', rows: ['site_set', 'label'], values: ['bote_ms', 'mean_ms'], where: { region: 'all', conflict_pct: 0 }, delta: true },
    { title: 'Mean over client regions (ms): bote estimate next to the simulation, 2% conflict', rows: ['site_set', 'label'], values: ['bote_ms', 'mean_ms'], where: { region: 'all', conflict_pct: 2 }, delta: true },
    { title: 'Per client region (ms), 2% conflict', rows: ['site_set', 'label', 'region'], values: ['bote_ms', 'mean_ms', 'p99_ms'], where: { conflict_pct: 2 } },
  ],
  plots: [SITES_AWS_5, SITES_GCP_5].map(
    (sites): PlotSpec => ({
      kind: 'bars',
      file: `bote-${sites.name}`,
      title: `${siteSetTitle(sites)}: closed-form estimate and simulated mean over client sites, 2% conflict`,
      x: 'label',
      values: ['bote_ms', 'mean_ms'],
      where: { region: 'all', conflict_pct: 2, site_set: sites.name },
    }),
  ),
};

/** When the recovery experiment removes the crashed process (its second schedule). */
const RECOVERY_REMOVAL_AT_MS = 15_000;
/** When the recovery experiment's process crashes, and how long its clients run (simulated). */
const RECOVERY_CRASH_AT_MS = 10_000;
const RECOVERY_DURATION_MS = 30_000;
/** Clients of the crashed process try the next closest process after this long without a reply. */
const RECOVERY_CLIENT_TIMEOUT_MS = 1_000;

const RECOVERY: ExperimentDefinition = {
  name: 'recovery',
  description:
    'Throughput and latency over time (1 s buckets of simulated time) on GCP 5 sites with the CPU model, f=1, 2% conflict, 96 closed-loop clients per site for 30 s: process 1 (us-east1, FPaxos\'s leader) crashes at 10 s, and for FPaxos, in another point, process 4 (us-west1, the follower in the leader\'s write quorum); survivors suspect the crashed process 1 s later, its clients retry elsewhere after 1 s without a reply; in a second schedule the crashed process is removed from the configuration at 15 s.',
  siteSets: [SITES_GCP_5],
  protocols: [{ protocol: 'tempo', f: [1] }, { protocol: 'atlas', f: [1] }, { protocol: 'epaxos' }, { protocol: 'fpaxos', f: [1] }],
  conflictPct: [2],
  // Far from saturating the CPU model's cores (a few % busy), like the throughput experiment: at 128
  // clients per site and more, EPaxos's run after the crash takes tens of minutes here (its dependency
  // index is no longer pruned once a process is down: GC needs every process), so 96 keeps the run
  // to minutes; scale up in a definition file.
  clientsPerRegion: [96],
  durationMs: RECOVERY_DURATION_MS,
  seeds: [1],
  cpuProfile: 'results/cpu-profile.json',
  cores: 1,
  timelineMs: 1000,
  failureDetectionMs: 1000,
  // A schedule per case: a later fault kind (e.g. removing the crashed process) is one more entry here.
  faults: [
    { name: 'crash-p1', schedule: { crashes: [{ process: 1, atMs: RECOVERY_CRASH_AT_MS }], clientTimeoutMs: RECOVERY_CLIENT_TIMEOUT_MS } },
    // The same crash, then the removal of the crashed process from the configuration 5 s later
    // (docs/reconfiguration.md): garbage collection and pruning run over the four members again.
    {
      name: 'crash-p1-removed',
      schedule: {
        crashes: [{ process: 1, atMs: RECOVERY_CRASH_AT_MS }],
        removals: [{ process: 1, atMs: RECOVERY_REMOVAL_AT_MS }],
        clientTimeoutMs: RECOVERY_CLIENT_TIMEOUT_MS,
      },
    },
    { name: 'crash-p4', protocols: ['fpaxos'], schedule: { crashes: [{ process: 4, atMs: RECOVERY_CRASH_AT_MS }], clientTimeoutMs: RECOVERY_CLIENT_TIMEOUT_MS } },
  ],
  tables: [
    {
      title: 'Throughput around the crash (commands/s): before, lowest 1 s after, mean of the last 5 s',
      rows: ['label', 'fault'],
      values: ['ops_per_sec_before', 'ops_per_sec_min_after', 'ops_per_sec_end'],
      where: { region: 'all' },
    },
    {
      title: 'Recovery: seconds from the crash until throughput stays within 90% of its level at the end; the highest 1 s p99 after the crash (ms)',
      rows: ['label', 'fault'],
      values: ['settled_after_s', 'p99_ms_max_after'],
      where: { region: 'all' },
    },
    { title: 'Latency over the whole run (ms) per client site', rows: ['label', 'fault'], columns: 'region', value: 'mean_ms' },
  ],
  plots: [
    { kind: 'timeline', file: 'throughput-over-time', title: 'Commands completed per second (1 s buckets), GCP 5 sites, f=1, CPU model; crash at 10 s, removal at 15 s', y: ['ops_per_sec'] },
    { kind: 'timeline', file: 'latency-over-time', title: 'Latency of the commands completed in each second: p50 (solid) and p99 (dashed); crash at 10 s, removal at 15 s', y: ['p50_ms', 'p99_ms'] },
  ],
};

/** Every built-in experiment, validated, by name, in the order `orrery exp --list` shows them. */
export const EXPERIMENTS: ReadonlyMap<string, ExperimentDefinition> = new Map(
  [F1_VS_F2, FAST_PATH, INCREASING_SITES, THROUGHPUT, BOTE, RECOVERY].map((d) => [d.name, validateDefinition(d)]),
);

const ADAPTER_DEPLOY: AdapterDeployDefinition = {
  kind: 'adapter-deploy',
  name: 'adapter-deploy',
  description:
    'The adapter register against a rolling update (issue 7): requests served by regressed adapters, the mixed-version window and the time from publication to the whole fleet, for 0–60% regressed versions over 3 seeds, with FPaxos and Tempo replicating the register (5 validators, 50 inference nodes, 10 versions, 500 ms polls).',
  protocols: ['fpaxos', 'tempo'],
  strategies: ['register', 'rolling'],
  badFractions: [0, 0.2, 0.4, 0.6],
  seeds: [1, 2, 3],
  validators: 5,
  fleet: 50,
  versions: 10,
  pollMs: 500,
  tables: [
    { title: 'Requests served by regressed versions (mean over seeds)', rows: ['protocol', 'strategy'], columns: 'bad_fraction', value: 'bad_version_requests' },
    { title: 'Mixed-version window (ms, mean over seeds)', rows: ['protocol', 'strategy'], columns: 'bad_fraction', value: 'mixed_version_ms' },
    { title: 'Publication to the whole fleet, median over versions (ms, mean over seeds)', rows: ['protocol', 'strategy'], columns: 'bad_fraction', value: 'converged_median_ms' },
    { title: 'Versions released (register) or known good (rolling update)', rows: ['protocol', 'strategy'], columns: 'bad_fraction', value: 'released' },
    { title: 'Register commands: median latency (ms)', rows: ['protocol', 'strategy'], columns: 'bad_fraction', value: 'commit_p50_ms', where: { strategy: 'register' } },
  ],
};

/** The built-in experiments of the adapter-deploy kind (experiments/adapter-deploy.ts), validated, by name. */
export const ADAPTER_EXPERIMENTS: ReadonlyMap<string, AdapterDeployDefinition> = new Map(
  [ADAPTER_DEPLOY].map((d) => [d.name, validateAdapterDefinition(d as unknown as Record<string, unknown>)]),
);
