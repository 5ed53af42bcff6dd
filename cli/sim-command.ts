/** `orrery sim`: one simulation, printed as text or JSON. */
import { readFileSync, writeFileSync } from 'node:fs';
import { CONFIG_DEFAULTS, makeConfig, type ProtocolName } from '../core/config.js';
import { UsageError } from '../core/invariant.js';
import { epaxosMaxFaults } from '../core/quorum.js';
import { availableProtocols, protocolByName } from '../protocols/index.js';
import { formatReport, historyLine, makeReport, pendingHistoryLine } from '../sim/report.js';
import { formatStuckCommand, formatStuckCommandComparison, runStuckCommand, STUCK_COMMAND_DEFAULTS, STUCK_COMMAND_HOLDS, type StuckCommandHold } from '../sim/scenarios/stuck-command.js';
import { LIVENESS_PHASE_MS } from '../check/case.js';
import { formatFaults } from '../sim/report.js';
import { parseFaults, type FaultSchedule } from '../sim/faults.js';
import { Simulation, SimulationStuckError, type SimulationOptions } from '../sim/simulation.js';
import { COMMANDS_PER_CLIENT_MAX, WORKLOAD_DEFAULTS, type WorkloadOptions } from '../sim/workload.js';
import { parseCpuProfile, type CpuOptions } from '../sim/cpu.js';
import {
  EPAXOS_FAST_QUORUM_FLAG,
  epaxosFastQuorumFrom,
  intFlag,
  leaderFrom,
  numberFlag,
  planetFrom,
  processRegionsFrom,
  regionsFlag,
  stringFlag,
  COMMAND_SHAPE_FLAGS,
} from './options.js';

type Argv = Record<string, unknown>;

/** Scripted scenarios `orrery sim --scenario` runs. */
export const SCENARIOS = ['stuck-command'] as const;

/** The options every simulating subcommand shares, described for yargs. */
export const SIM_FLAGS = {
  protocol: { type: 'string', describe: `the protocol: ${availableProtocols().join(', ')} [default: fpaxos]` },
  planet: { type: 'string', describe: 'built-in latency matrix: gcp or aws [default: gcp]' },
  'planet-file': { type: 'string', describe: 'a TSV RTT matrix (docs/planet-file.md; overrides --planet)' },
  regions: { type: 'string', describe: 'comma-separated regions, one process each (default: 5 regions of the planet)' },
  f: { type: 'string', describe: 'tolerated failures, 1 ≤ f ≤ ⌊(n−1)/2⌋ [default: 1]' },
  leader: { type: 'string', describe: 'FPaxos leader: a process id or one of --regions [default: 1]' },
  'clients-per-region': { type: 'string', describe: 'closed-loop clients in each client region [default: 10]' },
  'client-regions': { type: 'string', describe: 'regions hosting clients (default: the process regions)' },
  commands: { type: 'string', describe: 'commands per client [default: 100]' },
  ...COMMAND_SHAPE_FLAGS,
  seed: { type: 'string', describe: 'seed of every random choice; same seed, same output [default: 1]' },
  jitter: { type: 'string', describe: 'extra per-message delay, uniform in [0, jitter% of the link] [default: 0]' },
  'gc-interval-ms': { type: 'string', describe: `garbage-collection gossip period [default: ${CONFIG_DEFAULTS.gcIntervalMs}]` },
  'tempo-detached-interval-ms': { type: 'string', describe: `Tempo: MDetached broadcast period [default: ${CONFIG_DEFAULTS.tempoDetachedIntervalMs}]` },
  executors: { type: 'string', describe: 'executor shards for key-partitioned executors (Tempo) [default: 1]' },
  'epaxos-fast-quorum': EPAXOS_FAST_QUORUM_FLAG,
  'recovery-timeout-ms': { type: 'string', describe: `recovery timeout: FPaxos leader change, per-dot recovery of the leaderless protocols [default: ${CONFIG_DEFAULTS.recoveryTimeoutMs}]` },
  cpu: { type: 'string', describe: 'CPU model: a cost profile written by `orrery calibrate` (e.g. results/cpu-profile.json); off by default' },
  cores: { type: 'string', describe: 'CPU model: cores per process [default: 1]' },
  'executor-cores': { type: 'string', describe: 'CPU model: cores for executor work, 0 = inline [default: min(cores−1, shards) for Tempo, 1 for others, 0 with one core]' },
  'nic-bytes-per-sec': { type: 'string', describe: 'CPU model: outgoing NIC rate per process in bytes/s [default: unlimited]' },
  faults: {
    type: 'string',
    describe: 'a fault schedule as JSON, in a FILE or inline (a value starting with `{`): crashes, messageFaults, partitions, slowLinks, clientTimeoutMs (see sim/faults.ts)',
  },
  'failure-detection-ms': {
    type: 'string',
    describe: 'with --faults: every live process suspects a crashed one this long after the crash (Process.suspect: FPaxos changes leader, the others pick quorums without it) [default: off]',
  },
  'duration-ms': {
    type: 'string',
    describe: 'clients issue commands for this many ms of simulated time, then stop (with --commands, whichever comes first) [default: no limit; --commands alone]',
  },
  'timeline-ms': {
    type: 'string',
    describe: 'add a timeline: commands/s and latency (mean, p50, p99) of the commands completed in each bucket of this many ms of simulated time [default: off]',
  },
  strict: { type: 'boolean', describe: 'round-trip every message through JSON (catches non-plain messages)' },
  json: { type: 'boolean', describe: 'print the report as JSON' },
  history: { type: 'string', describe: 'write the operation history to FILE as JSON lines' },
  scenario: {
    type: 'string',
    describe: `a scripted scenario instead of a plain run: ${SCENARIOS.join(', ')} (with --protocol, --seed, --hold, --json; --protocol all compares every leaderless protocol)`,
  },
  hold: {
    type: 'string',
    describe: `with --scenario stuck-command, how the command is held back: ${STUCK_COMMAND_HOLDS.join(', ')} (default ${STUCK_COMMAND_DEFAULTS.hold}; see docs/stuck-command.md)`,
  },
} as const;

/** Builds the simulation options and the notes to print, from parsed flags. */
export function simulationFromFlags(argv: Argv): { options: SimulationOptions; notes: string[] } {
  const protocol = protocolByName(stringFlag(argv, 'protocol', 'fpaxos'));
  const planet = planetFrom(argv);
  const processRegions = processRegionsFrom(argv, planet);
  const clientRegions = regionsFlag(argv, 'client-regions', planet, processRegions);
  const n = processRegions.length;
  const notes: string[] = [];
  const fGiven = argv['f'] !== undefined;
  if (protocol.name === 'epaxos' && fGiven) {
    notes.push(`EPaxos ignores --f: it always tolerates F=⌊n/2⌋=${epaxosMaxFaults(n)} failures with n=${n}`);
  }
  if (protocol.name !== 'fpaxos' && argv['leader'] !== undefined) notes.push(`${protocol.name} is leaderless and ignores --leader`);
  const cpu = cpuFromFlags(argv);
  const config = makeConfig(protocol.name as ProtocolName, {
    n,
    f: intFlag(argv, 'f', CONFIG_DEFAULTS.f, 0, 32),
    leader: leaderFrom(argv, processRegions),
    gcIntervalMs: numberFlag(argv, 'gc-interval-ms', CONFIG_DEFAULTS.gcIntervalMs, 0.001, 3_600_000),
    tempoDetachedIntervalMs: numberFlag(argv, 'tempo-detached-interval-ms', CONFIG_DEFAULTS.tempoDetachedIntervalMs, 0.001, 3_600_000),
    executorShards: intFlag(argv, 'executors', cpu !== undefined && protocol.shardOf !== undefined ? Math.max(1, cpu.cores - 1) : CONFIG_DEFAULTS.executorShards, 1, 256),
    recoveryTimeoutMs: numberFlag(argv, 'recovery-timeout-ms', CONFIG_DEFAULTS.recoveryTimeoutMs, 0.001, 3_600_000),
    epaxosFastQuorum: epaxosFastQuorumFrom(argv),
  });
  const faultsFile = stringFlag(argv, 'faults', undefined);
  if (config.epaxosFastQuorum === 'optimized') {
    if (protocol.name !== 'epaxos') throw new UsageError(`--epaxos-fast-quorum applies to epaxos only (got --protocol ${protocol.name})`);
    if (faultsFile !== undefined) {
      throw new UsageError('the optimized EPaxos fast quorum has no safe recovery in Orrery; drop --faults or use --epaxos-fast-quorum simple');
    }
    notes.push('EPaxos with the optimized fast quorum F+⌊(F+1)/2⌋ (the paper\'s): fault-free runs only, its recovery is not safe without TryPreAccept');
  }
  const detectionMs = numberFlag(argv, 'failure-detection-ms', undefined, 0, 3_600_000);
  if (detectionMs !== undefined && faultsFile === undefined) throw new UsageError('--failure-detection-ms needs --faults: without crashes nothing is ever suspected');
  let faults: FaultSchedule | undefined;
  if (faultsFile !== undefined && faultsFile.trimStart().startsWith('{')) {
    faults = parseFaults(faultsFile, '--faults', n);
  } else if (faultsFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(faultsFile, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new UsageError(`cannot read faults file '${faultsFile}' (${code})`);
    }
    faults = parseFaults(text, faultsFile, n);
  }
  const durationMs = numberFlag(argv, 'duration-ms', undefined, 1, 3_600_000);
  const timelineMs = numberFlag(argv, 'timeline-ms', undefined, 1, 3_600_000);
  const zipfTheta = numberFlag(argv, 'zipf', undefined, 0.000001, 100);
  const workload: WorkloadOptions = {
    commandsPerClient: intFlag(argv, 'commands', durationMs === undefined ? WORKLOAD_DEFAULTS.commandsPerClient : COMMANDS_PER_CLIENT_MAX, 1, COMMANDS_PER_CLIENT_MAX),
    conflictRate: numberFlag(argv, 'conflict', WORKLOAD_DEFAULTS.conflictRate, 0, 100),
    sharedKeys: intFlag(argv, 'shared-keys', WORKLOAD_DEFAULTS.sharedKeys, 1, 100_000_000),
    ...(zipfTheta === undefined ? {} : { zipfTheta }),
    zipfKeys: intFlag(argv, 'zipf-keys', WORKLOAD_DEFAULTS.zipfKeys, 1, 100_000_000),
    readRatio: numberFlag(argv, 'read-ratio', WORKLOAD_DEFAULTS.readRatio, 0, 100),
    keysPerCommand: intFlag(argv, 'keys-per-command', WORKLOAD_DEFAULTS.keysPerCommand, 1, 64),
    payloadBytes: intFlag(argv, 'payload-bytes', WORKLOAD_DEFAULTS.payloadBytes, 0, 64 * 1024 * 1024),
  };
  const seedText = stringFlag(argv, 'seed', '1');
  const seed = /^-?\d+$/.test(seedText) ? Number(seedText) : seedText;
  const options: SimulationOptions = {
    protocol,
    config,
    planet,
    processRegions,
    clientRegions,
    clientsPerRegion: intFlag(argv, 'clients-per-region', 10, 0, 100_000),
    workload,
    seed,
    jitterPct: numberFlag(argv, 'jitter', 0, 0, 1000),
    recordHistory: argv['history'] !== undefined,
    strict: argv['strict'] === true,
    ...(faults === undefined ? {} : { faults, stallLimitMs: LIVENESS_PHASE_MS }),
    ...(detectionMs === undefined ? {} : { failureDetectionMs: detectionMs }),
    ...(durationMs === undefined ? {} : { durationMs }),
    ...(timelineMs === undefined ? {} : { timelineMs }),
    ...(cpu === undefined ? {} : { cpu }),
  };
  if (cpu !== undefined) notes.push(`CPU model: profile ${stringFlag(argv, 'cpu', '')} (${cpu.profile.date}, commit ${cpu.profile.commit.slice(0, 12)})`);
  return { options, notes };
}

/** --cpu PROFILE with --cores, --executor-cores and --nic-bytes-per-sec; the model is off without --cpu. */
export function cpuFromFlags(argv: Argv): CpuOptions | undefined {
  const file = stringFlag(argv, 'cpu', undefined);
  if (file === undefined) {
    for (const flag of ['cores', 'executor-cores', 'nic-bytes-per-sec']) {
      if (argv[flag] !== undefined) throw new UsageError(`--${flag} needs the CPU model: give a profile with --cpu (e.g. --cpu results/cpu-profile.json)`);
    }
    return undefined;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new UsageError(`cannot read CPU profile '${file}' (${code}); write one with 'orrery calibrate'`);
  }
  const cores = intFlag(argv, 'cores', 1, 1, 256);
  const executorCores = intFlag(argv, 'executor-cores', -1, 0, cores - 1);
  const nic = numberFlag(argv, 'nic-bytes-per-sec', undefined, 1000, 1e13);
  return {
    profile: parseCpuProfile(text, file),
    cores,
    ...(executorCores < 0 ? {} : { executorCores }),
    ...(nic === undefined ? {} : { nicBytesPerSec: nic }),
  };
}

/**
 * `orrery sim --scenario stuck-command`: one command's commit held back, per protocol; `--protocol all`
 * (the default for the scenario) runs every leaderless protocol that is available.
 */
function runScenario(argv: Argv, scenario: string, print: (text: string) => void): void {
  if (!(SCENARIOS as readonly string[]).includes(scenario)) {
    throw new UsageError(`unknown scenario '${scenario}'; accepted: ${SCENARIOS.join(', ')}`);
  }
  const allowed = new Set(['scenario', 'protocol', 'seed', 'hold', 'json', '_', '$0', 'help']);
  for (const flag of Object.keys(argv)) {
    if (!allowed.has(flag) && argv[flag] !== undefined) {
      throw new UsageError(`--${flag} does not apply to --scenario ${scenario}, which fixes its own regions and workload; it accepts --protocol, --seed, --hold and --json`);
    }
  }
  const name = stringFlag(argv, 'protocol', 'all');
  const protocols = name === 'all' ? availableProtocols().filter((p) => p !== 'fpaxos').map(protocolByName) : [protocolByName(name)];
  const seed = intFlag(argv, 'seed', STUCK_COMMAND_DEFAULTS.seed, 0, 2 ** 31);
  const hold = stringFlag(argv, 'hold', STUCK_COMMAND_DEFAULTS.hold);
  if (!(STUCK_COMMAND_HOLDS as readonly string[]).includes(hold)) {
    throw new UsageError(`unknown --hold '${hold}'; accepted: ${STUCK_COMMAND_HOLDS.join(', ')}`);
  }
  const figures = protocols.map((protocol) => runStuckCommand({ protocol, seed, hold: hold as StuckCommandHold }));
  if (argv['json'] === true) print(JSON.stringify(figures, null, 2));
  else print([...figures.map(formatStuckCommand), ...(figures.length > 1 ? [formatStuckCommandComparison(figures)] : [])].join('\n\n'));
}

/** Runs `orrery sim` and prints the report. */
export function runSimCommand(argv: Argv, print: (text: string) => void): void {
  const scenario = stringFlag(argv, 'scenario', undefined);
  if (scenario !== undefined) return runScenario(argv, scenario, print);
  if (argv['hold'] !== undefined) throw new UsageError('--hold applies only to --scenario stuck-command');
  const { options, notes } = simulationFromFlags(argv);
  const historyFile = stringFlag(argv, 'history', undefined);
  const simulation = new Simulation(options);
  let result;
  try {
    result = simulation.run();
  } catch (error) {
    if (!(error instanceof SimulationStuckError) || options.faults === undefined) throw error;
    // Under faults, getting stuck is a finding to report, not a crash of the tool; the history up
    // to the stall is what a checker needs to look at it.
    if (historyFile !== undefined) writeHistory(historyFile, simulation);
    print(`stuck: ${error.message}`);
    print(formatFaults(simulation.faultStats(), undefined));
    process.exitCode = 1;
    return;
  }
  const report = makeReport(result, notes, options.faults !== undefined);
  if (historyFile !== undefined) writeHistory(historyFile, simulation);
  print(argv['json'] === true ? JSON.stringify(report, null, 2) : formatReport(report));
}

/** Every completed operation, then every command without a reply (unknown outcome), as JSON lines. */
function writeHistory(file: string, simulation: Simulation): void {
  const { completed, pending } = simulation.historySoFar();
  const lines = [...completed.map(historyLine), ...pending.map(pendingHistoryLine)];
  try {
    writeFileSync(file, lines.length === 0 ? '' : `${lines.join('\n')}\n`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unwritable';
    throw new UsageError(`cannot write history file '${file}' (${code})`);
  }
}
