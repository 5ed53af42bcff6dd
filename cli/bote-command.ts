/** `orrery bote`: closed-form fast-path latency per client region. */
import { CONFIG_DEFAULTS, makeConfig, type ProtocolName } from '../core/config.js';
import { availableProtocols, protocolByName } from '../protocols/index.js';
import { bote } from '../sim/bote.js';
import { nsToMs } from '../sim/report.js';
import { EPAXOS_FAST_QUORUM_FLAG, epaxosFastQuorumFrom, intFlag, leaderFrom, planetFrom, processRegionsFrom, regionsFlag, stringFlag } from './options.js';

type Argv = Record<string, unknown>;

export const BOTE_FLAGS = {
  protocol: { type: 'string', describe: `the protocol: ${availableProtocols().join(', ')}`, default: 'fpaxos' },
  planet: { type: 'string', describe: 'built-in latency matrix: gcp or aws', default: 'gcp' },
  'planet-file': { type: 'string', describe: 'a TSV RTT matrix (docs/planet-file.md; overrides --planet)' },
  regions: { type: 'string', describe: 'comma-separated process regions (default: 5 regions of the planet)' },
  'client-regions': { type: 'string', describe: 'regions hosting clients (default: the process regions)' },
  f: { type: 'string', describe: 'tolerated failures [default: 1]' },
  leader: { type: 'string', describe: 'FPaxos leader: a process id or one of --regions [default: 1]' },
  'epaxos-fast-quorum': EPAXOS_FAST_QUORUM_FLAG,
  json: { type: 'boolean', describe: 'print JSON' },
} as const;

export function runBoteCommand(argv: Argv, print: (text: string) => void): void {
  const protocol = protocolByName(stringFlag(argv, 'protocol', 'fpaxos'));
  const planet = planetFrom(argv);
  const processRegions = processRegionsFrom(argv, planet);
  const clientRegions = regionsFlag(argv, 'client-regions', planet, processRegions);
  const config = makeConfig(protocol.name as ProtocolName, {
    n: processRegions.length,
    f: intFlag(argv, 'f', CONFIG_DEFAULTS.f, 0, 32),
    leader: leaderFrom(argv, processRegions),
    epaxosFastQuorum: epaxosFastQuorumFrom(argv),
  });
  const estimates = bote({ protocol: protocol.name, config, planet, processRegions, clientRegions });
  const rows = estimates.map((e) => ({ region: e.region, process: e.process, latencyMs: nsToMs(e.latencyNs) }));
  const mean = nsToMs(estimates.reduce((sum, e) => sum + e.latencyNs, 0) / Math.max(1, estimates.length));
  if (argv['json'] === true) {
    print(JSON.stringify({ protocol: protocol.name, planet: planet.name, config, processRegions, estimates: rows, meanMs: mean }, null, 2));
    return;
  }
  const leader = protocol.name === 'fpaxos' ? `, leader ${config.leader} (${processRegions[config.leader - 1]})` : '';
  const f = protocol.name === 'epaxos' ? '' : ` f=${config.f}`;
  const lines = [`bote: ${protocol.name} on ${planet.name}, n=${config.n}${f}${leader}`, ''];
  const width = Math.max(...rows.map((r) => r.region.length), 6);
  lines.push(`  ${'region'.padEnd(width)}  process  latency (ms)`);
  for (const row of rows) lines.push(`  ${row.region.padEnd(width)}  ${String(row.process).padStart(7)}  ${row.latencyMs.toFixed(3).padStart(12)}`);
  lines.push(`  ${'mean'.padEnd(width)}  ${''.padStart(7)}  ${mean.toFixed(3).padStart(12)}`);
  print(lines.join('\n'));
}
