/**
 * The fault model (sim/faults.ts) and how the simulator applies it, observed through a tiny "ping"
 * protocol: every process broadcasts a numbered ping every 10 ms and logs every ping it receives.
 * Commands run locally at once, so the clients only keep the run going.
 */
import { describe, expect, test } from 'vitest';
import { makeConfig } from '../core/config.js';
import type { ProcessId } from '../core/ids.js';
import { UsageError } from '../core/invariant.js';
import type { Command } from '../core/command.js';
import type { ExecutionResult, Executor, Output, Process, ProtocolDefinition } from '../core/process.js';
import { KVStore } from '../apps/kv/store.js';
import { MessageFaults, parseFaults, validateFaults, type FaultSchedule } from '../sim/faults.js';
import { builtInPlanet } from '../sim/planet.js';
import { Simulation, SimulationStuckError } from '../sim/simulation.js';
import { WORKLOAD_DEFAULTS } from '../sim/workload.js';

interface Ping {
  readonly type: 'Ping';
  readonly seq: number;
  readonly sentMs: number;
}
interface Received {
  readonly at: ProcessId;
  readonly from: ProcessId;
  readonly seq: number;
  readonly sentMs: number;
  readonly receivedMs: number;
}

function pingProtocol(log: Received[], tickMs = 10): ProtocolDefinition<Ping, Command> {
  return {
    name: 'fpaxos', // any registered name; the simulator only reports it
    summary: 'test: periodic pings',
    createProcess(id, config): Process<Ping, Command> {
      let outputs: Output<Ping, Command>[] = [];
      let seq = 0;
      const others = Array.from({ length: config.n }, (_, i) => i + 1).filter((p) => p !== id);
      return {
        id,
        timers: [{ timer: 'tick', everyMs: tickMs }],
        discover() {},
        submit(cmd) {
          outputs.push({ kind: 'execute', info: cmd });
        },
        handle(from, msg, now) {
          log.push({ at: id, from, seq: msg.seq, sentMs: msg.sentMs, receivedMs: now });
        },
        onTimer(_timer, now) {
          outputs.push({ kind: 'send', to: others, msg: { type: 'Ping', seq: ++seq, sentMs: now } });
        },
        drain() {
          const drained = outputs;
          outputs = [];
          return drained;
        },
        metrics: () => ({ fastPath: 0, slowPath: 0 }),
      };
    },
    createExecutor(): Executor<Command> {
      const store = new KVStore();
      let results: ExecutionResult[] = [];
      return {
        handle(cmd) {
          for (const keyOps of cmd.keys) results.push({ rifl: cmd.rifl, key: keyOps.key, results: store.apply(keyOps) });
        },
        drain() {
          const drained = results;
          results = [];
          return drained;
        },
      };
    },
  };
}

// Processes in the Americas and Europe; the one client in Asia keeps the run going ~2 s (10 round trips).
const REGIONS = ['us-east1', 'europe-west2', 'us-west1'];

/**
 * Runs the pings for 2.5 simulated seconds. Only the process a command reaches executes it, so the
 * others never catch up and the run ends at its time limit, as "stuck": that is expected here.
 */
function ping(faults: FaultSchedule | undefined, options: { seed?: number; commands?: number; clientRegion?: string } = {}) {
  const log: Received[] = [];
  const simulation = new Simulation({
    protocol: pingProtocol(log),
    config: makeConfig('fpaxos', { n: 3 }),
    planet: builtInPlanet('gcp'),
    processRegions: REGIONS,
    clientRegions: [options.clientRegion ?? 'asia-southeast1'],
    clientsPerRegion: 1,
    workload: { ...WORKLOAD_DEFAULTS, commandsPerClient: options.commands ?? 10 },
    seed: options.seed ?? 1,
    recordHistory: true,
    maxSimTimeMs: 2500,
    ...(faults === undefined ? {} : { faults }),
  });
  expect(() => simulation.run()).toThrow(SimulationStuckError);
  const history = simulation.historySoFar();
  expect(history.pending).toEqual([]);
  return { log, result: { faults: simulation.faultStats(), history: history.completed } };
}

const on = (log: Received[], from: ProcessId, at: ProcessId) => log.filter((r) => r.from === from && r.at === at);
const sentIn = (r: Received, fromMs: number, untilMs: number) => r.sentMs >= fromMs && r.sentMs < untilMs;

describe('fault schedules: validation names the entry, the field and what is accepted', () => {
  const bad: Array<[unknown, RegExp]> = [
    [[], /^faults must be an object .*accepted keys: slowLinks, messageFaults, partitions, crashes, removals, removeAfterMs, clientTimeoutMs$/],
    [{ drops: [] }, /^unknown fault kind 'drops'; accepted: slowLinks, messageFaults, partitions, crashes, removals, removeAfterMs, clientTimeoutMs$/],
    [{ messageFaults: {} }, /^faults\.messageFaults must be an array of \{ from\?, to\?, drop\?/],
    [{ messageFaults: [{ drop: 1.5, fromMs: 0, untilMs: 1 }] }, /^faults\.messageFaults\[0\]\.drop must be a probability from 0 to 1 \(got 1\.5\)$/],
    [{ messageFaults: [{ to: 9, fromMs: 0, untilMs: 1 }] }, /^faults\.messageFaults\[0\]\.to must be a process id from 1 to 3 \(got 9\)$/],
    [{ messageFaults: [{ dup: 0.1, fromMs: 0, untilMs: 1 }] }, /^faults\.messageFaults\[0\] has unknown field 'dup'; accepted: from, to, drop, duplicate, reorder, reorderMs, fromMs, untilMs$/],
    [{ messageFaults: [{ fromMs: 5, untilMs: 2 }] }, /^faults\.messageFaults\[0\]: untilMs \(2\) must be after fromMs \(5\)$/],
    [{ partitions: [{ groups: [], fromMs: 0, untilMs: 1 }] }, /^faults\.partitions\[0\]\.groups must be a non-empty array of process-id arrays/],
    [{ partitions: [{ groups: [[1], [1, 2]], fromMs: 0, untilMs: 1 }] }, /^faults\.partitions\[0\]: process 1 is in two groups/],
    [{ partitions: [{ groups: [[4]], fromMs: 0, untilMs: 1 }] }, /^faults\.partitions\[0\]\.groups\[0\]\[0\] must be a process id from 1 to 3 \(got 4\)$/],
    [{ crashes: [{ process: 1, atMs: -1 }] }, /^faults\.crashes\[0\]\.atMs must be a finite number of milliseconds ≥ 0 \(got -1\)$/],
    [{ crashes: [{ process: 2, atMs: 1 }, { process: 2, atMs: 5 }] }, /^faults\.crashes\[1\]: process 2 crashes twice/],
    [{ crashes: [{ process: 2, atMs: 5, restartAtMs: 5 }] }, /^faults\.crashes\[0\]: restartAtMs \(5\) must be after atMs \(5\)$/],
    [{ clientTimeoutMs: 0 }, /^faults\.clientTimeoutMs must be a positive number of milliseconds \(got 0\)$/],
  ];
  for (const [faults, message] of bad) {
    test(JSON.stringify(faults), () => {
      expect(() => validateFaults(faults as FaultSchedule, 3)).toThrow(UsageError);
      expect(() => validateFaults(faults as FaultSchedule, 3)).toThrow(message);
    });
  }

  test('a faults file: bad JSON and bad entries name the file', () => {
    expect(() => parseFaults('{', 'case.json', 3)).toThrow(/^case\.json: not valid JSON \(.*\); a faults file is one JSON object with keys slowLinks, /);
    expect(() => parseFaults('{"crashes":[{"process":7,"atMs":1}]}', 'case.json', 3)).toThrow(/^case\.json: faults\.crashes\[0\]\.process must be a process id from 1 to 3 \(got 7\)$/);
    expect(parseFaults('{"crashes":[{"process":2,"atMs":1}]}', 'case.json', 3)).toEqual({ crashes: [{ process: 2, atMs: 1 }] });
  });

  test('crash-restart is part of the format but refused for a protocol that does not support it', () => {
    expect(() => ping({ crashes: [{ process: 2, atMs: 100, restartAtMs: 200 }] })).toThrow(
      /^faults\.crashes\[0\]\.restartAtMs: fpaxos does not support crash-restart .*; omit restartAtMs for a crash-stop$/,
    );
  });

  test('matching entries combine as independent events; partitions group unlisted processes together', () => {
    const faults = new MessageFaults(
      {
        messageFaults: [
          { drop: 0.5, fromMs: 0, untilMs: 10 },
          { from: 1, to: 2, drop: 0.5, duplicate: 0.2, reorderMs: 30, fromMs: 5, untilMs: 10 },
        ],
        partitions: [{ groups: [[1]], fromMs: 20, untilMs: 30 }],
      },
      3,
    );
    expect(faults.fateOf(0, 1, 1_000_000)).toMatchObject({ drop: 0.5, duplicate: 0 });
    expect(faults.fateOf(0, 1, 6_000_000)).toMatchObject({ drop: 0.75, duplicate: expect.closeTo(0.2, 9), reorderNs: 30_000_000 });
    expect(faults.fateOf(1, 0, 6_000_000)).toMatchObject({ drop: 0.5, duplicate: 0 });
    expect(faults.fateOf(0, 1, 10_000_000)).toMatchObject({ drop: 0, duplicate: 0, reorder: 0 });
    expect(faults.partitioned(0, 1, 25_000_000)).toBe(true);
    expect(faults.partitioned(1, 0, 25_000_000)).toBe(true);
    expect(faults.partitioned(1, 2, 25_000_000)).toBe(false);
    expect(faults.partitioned(0, 1, 30_000_000)).toBe(false);
  });
});

describe('the simulator applies faults', () => {
  const baseline = ping(undefined);

  test('without faults every ping arrives once, in FIFO order per link', () => {
    for (const [from, at] of [[1, 2], [2, 3], [3, 1]] as const) {
      const seqs = on(baseline.log, from, at).map((r) => r.seq);
      expect(seqs.length).toBeGreaterThan(100);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    }
    expect(baseline.result.faults).toEqual({ crashed: [], dropped: 0, partitioned: 0, toCrashed: 0, duplicated: 0, reordered: 0, clientRetries: 0 });
  });

  test('drop: pings sent on the link during the window are lost, others arrive', () => {
    const { log, result } = ping({ messageFaults: [{ from: 1, to: 2, drop: 1, fromMs: 500, untilMs: 1000 }] });
    const link = on(log, 1, 2);
    expect(link.filter((r) => sentIn(r, 500, 1000))).toEqual([]);
    expect(link.filter((r) => !sentIn(r, 500, 1000))).toHaveLength(on(baseline.log, 1, 2).filter((r) => !sentIn(r, 500, 1000)).length);
    expect(on(log, 1, 3)).toEqual(on(baseline.log, 1, 3));
    expect(result.faults.dropped).toBe(50);
  });

  test('drop with probability ½ loses about half, drawn from the fault stream of the seed', () => {
    const faults: FaultSchedule = { messageFaults: [{ drop: 0.5, fromMs: 0, untilMs: 2000 }] };
    const a = ping(faults);
    const b = ping(faults);
    expect(a.log).toEqual(b.log);
    const sent = baseline.log.filter((r) => sentIn(r, 0, 2000)).length;
    expect(a.result.faults.dropped / sent).toBeGreaterThan(0.4);
    expect(a.result.faults.dropped / sent).toBeLessThan(0.6);
    const other = ping(faults, { seed: 2 });
    expect(other.log).not.toEqual(a.log);
  });

  test('duplicate: every ping of the window arrives twice', () => {
    const { log, result } = ping({ messageFaults: [{ from: 2, duplicate: 1, reorderMs: 20, fromMs: 300, untilMs: 600 }] });
    for (const at of [1, 3]) {
      const link = on(log, 2, at);
      const inWindow = link.filter((r) => sentIn(r, 300, 600));
      expect(inWindow).toHaveLength(2 * 30);
      expect(new Set(inWindow.map((r) => r.seq)).size).toBe(30);
      expect(link.filter((r) => !sentIn(r, 300, 600)).length).toBe(on(baseline.log, 2, at).filter((r) => !sentIn(r, 300, 600)).length);
    }
    expect(result.faults.duplicated).toBe(60);
  });

  test('reorder: pings arrive once each but not in FIFO order; outside the window FIFO holds', () => {
    const { log, result } = ping({ messageFaults: [{ reorder: 1, reorderMs: 60, fromMs: 0, untilMs: 1000 }] });
    const link = on(log, 1, 3);
    const seqs = link.map((r) => r.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs.map((_, i) => i + 1));
    expect(seqs).not.toEqual(seqs.map((_, i) => i + 1));
    const after = link.filter((r) => r.sentMs >= 1100).map((r) => r.seq);
    expect(after).toEqual([...after].sort((a, b) => a - b));
    expect(result.faults.reordered).toBeGreaterThan(100);
  });

  test('partition: messages across groups are dropped during the window, both ways; within a group they flow', () => {
    const { log } = ping({ partitions: [{ groups: [[1], [2, 3]], fromMs: 200, untilMs: 700 }] });
    for (const [from, at] of [[1, 2], [2, 1], [1, 3], [3, 1]] as const) expect(on(log, from, at).filter((r) => sentIn(r, 200, 700))).toEqual([]);
    expect(on(log, 2, 3)).toEqual(on(baseline.log, 2, 3));
    expect(on(log, 1, 2).filter((r) => r.sentMs >= 700).length).toBeGreaterThan(50);
  });

  test('crash: the process receives and sends nothing from then on, and its timers stop', () => {
    const { log, result } = ping({ crashes: [{ process: 2, atMs: 500 }] });
    expect(log.filter((r) => r.at === 2 && r.receivedMs >= 500)).toEqual([]);
    expect(log.filter((r) => r.from === 2 && r.sentMs >= 500)).toEqual([]);
    // Pings already on the wire when it crashed still arrive.
    expect(log.filter((r) => r.from === 2).at(-1)!.receivedMs).toBeGreaterThan(500);
    expect(result.faults.crashed).toEqual([2]);
    expect(result.faults.toCrashed).toBeGreaterThan(0);
  });

  test('slow links keep their shape and semantics', () => {
    const { log } = ping({ slowLinks: [{ from: 1, to: 2, extraMs: 200, fromMs: 100, untilMs: 300 }] });
    const delayed = on(log, 1, 2).filter((r) => sentIn(r, 100, 300));
    const plain = on(baseline.log, 1, 2).filter((r) => sentIn(r, 100, 300));
    delayed.forEach((r, i) => expect(r.receivedMs - plain[i]!.receivedMs).toBeCloseTo(200, 6));
  });

  test('client timeout: a client whose process crashed retries the same command at the next-closest process, and stays there', () => {
    // The client in us-east4 is closest to process 1 (us-east1), which crashes before anything arrives.
    const crashed = ping({ crashes: [{ process: 1, atMs: 0 }], clientTimeoutMs: 300 }, { clientRegion: 'us-east4', commands: 5 });
    const plain = ping(undefined, { clientRegion: 'us-east4', commands: 5 });
    const history = crashed.result.history;
    expect(history.map((h) => h.command)).toEqual(plain.result.history.map((h) => h.command));
    expect(new Set(history.map((h) => h.process))).toEqual(new Set([3]));
    expect(plain.result.history.every((h) => h.process === 1)).toBe(true);
    // The first command waited out the timeout once; the client then stays with the process that answered.
    expect(crashed.result.faults.clientRetries).toBe(1);
    expect(history[0]!.completeMs - history[0]!.invokeMs).toBeGreaterThanOrEqual(300);
    for (const h of history.slice(1)) expect(h.completeMs - h.invokeMs).toBeLessThan(300);
  });

  test('faults never change what clients submit: the workload draws are their own', () => {
    const faulty = ping({ messageFaults: [{ drop: 0.3, duplicate: 0.3, reorder: 0.3, fromMs: 0, untilMs: 5000 }] });
    expect(faulty.result.history.map((h) => h.command)).toEqual(baseline.result.history.map((h) => h.command));
  });
});
