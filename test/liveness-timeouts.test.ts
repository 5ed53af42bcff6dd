/**
 * Liveness at every timeout setting (docs/faults-and-checking.md): with at most f crashes every
 * protocol finishes every command, whatever the client timeout and the recovery timeout, and every
 * checker of `orrery check` passes on the run (check/run-case.ts: execution order, commit agreement,
 * exactly-once, real time, linearizability, liveness).
 *
 * - The two stalls of issue 14: Atlas with one crash and a client timeout of 1.5 × the recovery
 *   timeout, and EPaxos (f = 2) with two crashes and client timeout = recovery timeout. Each client
 *   retry used to become a new dot that needed a recovery, and each recovered dot depended on the
 *   retries made while it waited: nothing executed again. Same schedules for every protocol, and the
 *   README's crash.json (a crash and 10 % drops).
 * - A compact sweep of client timeouts × recovery timeouts, including recovery timeouts shorter
 *   than a phase 1 (FPaxos's candidacies used to pre-empt themselves forever).
 * - Hand-driven: a retry of a command some known dot carries is not proposed again; one whose only
 *   known dot was committed as a no-op is.
 *
 * Simulated time, deterministic; the whole file takes a few seconds.
 */
import { describe, expect, test } from 'vitest';
import type { CheckCase } from '../check/case.js';
import { runCase } from '../check/run-case.js';
import { makeCommand } from '../core/command.js';
import { makeConfig, type ProtocolName } from '../core/config.js';
import { makeDot, makeRifl } from '../core/ids.js';
import { protocolByName } from '../protocols/index.js';
import { AtlasProcess } from '../protocols/atlas/atlas.js';
import type { AtlasMessage } from '../protocols/atlas/messages.js';
import type { FaultSchedule } from '../sim/faults.js';

const command = (rifl: number, key: string) => makeCommand(rifl, [{ key, ops: [{ op: 'put', value: 'v' }] }]);

const PROTOCOLS: readonly ProtocolName[] = ['fpaxos', 'tempo', 'atlas', 'epaxos'];
/** `orrery sim`'s default GCP regions, so the cases below are the commands of the issue. */
const REGIONS = ['us-east1', 'europe-west2', 'asia-southeast1', 'us-west1', 'southamerica-east1'];

function checkCase(protocol: ProtocolName, fields: { f: number; seed: number; clientsPerRegion: number; commandsPerClient: number; conflictRate: number; recoveryTimeoutMs: number; faults: FaultSchedule }): CheckCase {
  return { protocol, n: REGIONS.length, regions: REGIONS, sharedKeys: 1, readRatio: 0, keysPerCommand: 1, ...fields };
}

/** Runs a case with every checker; it must complete every command with no violation. */
function expectLiveAndSafe(c: CheckCase): void {
  const outcome = runCase(protocolByName(c.protocol), c);
  const label = `${c.protocol} f=${c.f} recovery ${c.recoveryTimeoutMs} ms, client ${c.faults.clientTimeoutMs} ms, seed ${c.seed}`;
  expect(outcome.violations, label).toEqual([]);
  expect(outcome.stuck, label).toBe(false);
  expect(outcome.commandsCompleted, label).toBe(outcome.commandsIssued);
  expect(outcome.commandsIssued, label).toBe(REGIONS.length * c.clientsPerRegion * c.commandsPerClient);
}

const ONE_CRASH = [{ process: 1, atMs: 1000 }];
const TWO_CRASHES = [
  { process: 1, atMs: 500 },
  { process: 4, atMs: 900 },
];

describe('the stalls of issue 14, every protocol', () => {
  for (const protocol of PROTOCOLS) {
    test(`${protocol}: one crash, client timeout 1500 ms, recovery timeout 1000 ms (was: Atlas stuck)`, () => {
      expectLiveAndSafe(checkCase(protocol, { f: 1, seed: 1, clientsPerRegion: 2, commandsPerClient: 20, conflictRate: 50, recoveryTimeoutMs: 1000, faults: { crashes: ONE_CRASH, clientTimeoutMs: 1500 } }));
    });
    test(`${protocol}: f = 2, two crashes, client timeout 1000 ms = recovery timeout (was: EPaxos and Atlas stuck)`, () => {
      expectLiveAndSafe(checkCase(protocol, { f: 2, seed: 1, clientsPerRegion: 2, commandsPerClient: 10, conflictRate: 100, recoveryTimeoutMs: 1000, faults: { crashes: TWO_CRASHES, clientTimeoutMs: 1000 } }));
    });
    test(`${protocol}: the README's crash.json (a crash, 10 % drops for 2 s, client timeout 1500 ms)`, () => {
      const faults: FaultSchedule = { crashes: ONE_CRASH, messageFaults: [{ drop: 0.1, fromMs: 0, untilMs: 2000 }], clientTimeoutMs: 1500 };
      expectLiveAndSafe(checkCase(protocol, { f: 1, seed: 1, clientsPerRegion: 2, commandsPerClient: 20, conflictRate: 50, recoveryTimeoutMs: 1000, faults }));
    });
  }
});

describe('client timeout × recovery timeout, compact sweep', () => {
  // Recovery timeouts below a planet round trip (100 ms) and above the client timeout; client timeouts
  // from a retry storm (50 ms) to twice the recovery timeout.
  const RECOVERY_TIMEOUTS_MS = [100, 1000];
  const CLIENT_TIMEOUTS_MS = [50, 500, 1500];
  const SHAPES = [
    { f: 1, crashes: ONE_CRASH },
    { f: 2, crashes: TWO_CRASHES },
  ];
  for (const protocol of PROTOCOLS) {
    test(`${protocol}: ${RECOVERY_TIMEOUTS_MS.length * CLIENT_TIMEOUTS_MS.length * SHAPES.length} settings, all complete, no violation`, () => {
      for (const shape of SHAPES) {
        for (const recoveryTimeoutMs of RECOVERY_TIMEOUTS_MS) {
          for (const clientTimeoutMs of CLIENT_TIMEOUTS_MS) {
            expectLiveAndSafe(checkCase(protocol, { f: shape.f, seed: 2, clientsPerRegion: 1, commandsPerClient: 8, conflictRate: 100, recoveryTimeoutMs, faults: { crashes: shape.crashes, clientTimeoutMs } }));
          }
        }
      }
    });
  }
});

describe('a client retry is proposed once per known dot (common/client-retries.ts)', () => {
  const config = makeConfig('atlas', { n: 3, f: 1 });
  const rifl = makeRifl(7, 1);

  function cluster(): [AtlasProcess, AtlasProcess] {
    const one = new AtlasProcess(1, config);
    const two = new AtlasProcess(2, config);
    one.discover([1, 2, 3]);
    two.discover([2, 1, 3]);
    return [one, two];
  }

  function sent(process: AtlasProcess): AtlasMessage[] {
    return process.drain().flatMap((output) => (output.kind === 'send' ? [output.msg] : []));
  }

  test('a retry at a process that holds the payload of a dot carrying its rifl starts nothing', () => {
    const [one, two] = cluster();
    one.submit(command(rifl, 'x'), 0);
    const collect = sent(one).find((msg) => msg.type === 'MCollect')!;
    two.handle(1, collect, 10);
    sent(two);
    two.submit(command(rifl, 'x'), 20); // the client timed out at process 1 and retries at 2
    expect(sent(two)).toEqual([]);
    // Another rifl of the same client (its next command) is proposed as usual.
    two.submit(command(makeRifl(7, 2), 'x'), 30);
    expect(sent(two).map((msg) => msg.type)).toContain('MCollect');
  });

  test('a retry whose only known dot was committed as a no-op gets a new dot', () => {
    const [, two] = cluster();
    const lost = makeDot(1, 1);
    // Process 2 learnt the command from a recovery's MRec, and the dot was then committed as a no-op.
    two.handle(3, { type: 'MRec', dot: lost, ballot: 6, payload: { cmd: command(rifl, 'x'), quorum: [1, 2] } }, 0);
    two.handle(3, { type: 'MCommit', dot: lost, value: { isNoop: true, deps: [] } }, 10);
    sent(two);
    two.submit(command(rifl, 'x'), 20);
    const proposals = sent(two).filter((msg) => msg.type === 'MCollect');
    expect(proposals.map((msg) => msg.dot)).toEqual([makeDot(2, 1)]);
  });
});
