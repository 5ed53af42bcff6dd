/**
 * `orrery calibrate`: measures what each message kind and each executed command costs on this
 * machine, with the real protocol and executor code, and writes the CPU model's cost profile
 * (JSON, with the machine, the commit and the date) for `orrery sim --cpu`. See cli/calibrate.ts.
 */
import { writeFileSync } from 'node:fs';
import type { ProtocolName } from '../core/config.js';
import { UsageError } from '../core/invariant.js';
import { availableProtocols, protocolByName } from '../protocols/index.js';
import { calibrate, calibrateWithTransport, CALIBRATE_DEFAULTS } from './calibrate.js';
import { LIVE_CLIENTS, LIVE_DURATION_MS } from './calibrate-live.js';
import { intFlag, numberFlag, stringFlag } from './options.js';

type Argv = Record<string, unknown>;

export const CALIBRATE_FLAGS = {
  protocol: { type: 'string', describe: `the protocol to measure: ${availableProtocols().join(', ')}, or all [default: all]` },
  out: { type: 'string', describe: 'write the profile to FILE (default: print it)' },
  transport: { type: 'string', describe: "measure the runtime's transport too (writer, loopback socket, reader): yes or no [default: yes]" },
  replica: { type: 'string', describe: "also replay process 1's inputs through a real replica process (experimental; its residual is used only if the replay is faithful): yes or no [default: no]" },
  live: {
    type: 'string',
    describe: `also run the real runtime on loopback (n = 3) at a few client counts and fit what its processes spend beyond the calibrated parts: yes or no [default: no]`,
  },
  'live-clients': { type: 'string', describe: `client counts of the live runs, comma-separated [default: ${LIVE_CLIENTS.join(',')}]` },
  'clients-per-region': { type: 'string', describe: `closed-loop clients in each of the 3 regions [default: ${CALIBRATE_DEFAULTS.clientsPerRegion}]` },
  commands: { type: 'string', describe: `commands per client in the measured run [default: ${CALIBRATE_DEFAULTS.commandsPerClient}]` },
  conflict: { type: 'string', describe: `percentage of conflicting commands [default: ${CALIBRATE_DEFAULTS.conflictRate}]` },
} as const;

/** Runs `orrery calibrate`; progress goes to stderr, the profile to --out or stdout. */
export async function runCalibrateCommand(argv: Argv, print: (text: string) => void, command: string): Promise<void> {
  const name = stringFlag(argv, 'protocol', 'all');
  const protocols: ProtocolName[] = name === 'all' ? availableProtocols() : [protocolByName(name).name];
  const transport = stringFlag(argv, 'transport', 'yes');
  if (transport !== 'yes' && transport !== 'no') throw new UsageError(`--transport must be yes or no (got '${transport}')`);
  const replica = stringFlag(argv, 'replica', 'no');
  if (replica !== 'yes' && replica !== 'no') throw new UsageError(`--replica must be yes or no (got '${replica}')`);
  if (replica === 'yes' && transport === 'no') throw new UsageError('--replica yes needs --transport yes: the replay is compared with the transport model');
  const live = stringFlag(argv, 'live', 'no');
  if (live !== 'yes' && live !== 'no') throw new UsageError(`--live must be yes or no (got '${live}')`);
  if (live === 'yes' && transport === 'no') throw new UsageError('--live yes needs --transport yes: the live runs are compared with the transport model');
  if (live === 'yes' && replica === 'yes') throw new UsageError('--live yes and --replica yes both fit the replica residual: pick one');
  const liveClients = (stringFlag(argv, 'live-clients', LIVE_CLIENTS.join(',')) ?? '').split(',').map((x) => Number(x.trim()));
  if (liveClients.length < 2 || liveClients.some((c) => !Number.isInteger(c) || c < 3 || c > 3000)) {
    throw new UsageError(`--live-clients must be at least two integers in 3..3000, comma-separated (got '${stringFlag(argv, 'live-clients', '')}')`);
  }
  const options = {
    protocols,
    clientsPerRegion: intFlag(argv, 'clients-per-region', CALIBRATE_DEFAULTS.clientsPerRegion, 1, 10_000),
    commandsPerClient: intFlag(argv, 'commands', CALIBRATE_DEFAULTS.commandsPerClient, 10, 1_000_000),
    conflictRate: numberFlag(argv, 'conflict', CALIBRATE_DEFAULTS.conflictRate, 0, 100),
    command,
    log: (line: string) => process.stderr.write(`${line}\n`),
  };
  const profile =
    transport === 'yes'
      ? await calibrateWithTransport(options, {}, replica === 'yes', {}, live === 'yes' ? { clients: liveClients, durationMs: LIVE_DURATION_MS } : undefined)
      : calibrate(options);
  const text = `${JSON.stringify(profile, null, 2)}\n`;
  const out = stringFlag(argv, 'out', undefined);
  if (out === undefined) {
    print(text.trimEnd());
    return;
  }
  try {
    writeFileSync(out, text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unwritable';
    throw new UsageError(`cannot write profile '${out}' (${code})`);
  }
  process.stderr.write(`wrote ${out}\n`);
}
