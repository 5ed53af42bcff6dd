/**
 * The membership service on real processes (docs/runtime.md, "Membership and removal"): its messages
 * on the wire, removal after a long suspicion once a replica is `kill -9`ed, `orrery admin remove` and
 * `status` against a live cluster, and hostile membership messages refused at the edge.
 *
 * Runs are stopped on events, not after fixed times: the clients keep issuing until the survivors
 * have logged the new configuration, then for one more second, so the figures after the removal exist
 * however busy the machine is.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Membership, type MembershipMessage } from '../core/membership.js';
import type { ProtocolName } from '../core/config.js';
import { connectionCodec, frame, MSGPACK_CODEC } from '../runtime/codec.js';
import { wallMs } from '../runtime/client-host.js';
import { frameCheck, membershipMessageCheck, peerMessageCheck, protocolMessageCheck } from '../runtime/schema.js';
import { expectNoOrphans, expectSafeRun, poke, runCluster, runtimeOptions } from './support/runtime.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'orrery.js');

/** Runs the CLI; resolves with its exit code and output. */
function cli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A promise resolved by hand, for stopping a run on an event. */
function signal(): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const promise = new Promise<void>((resolve) => (fire = resolve));
  return { promise, fire };
}

describe('membership messages on the wire', () => {
  test('every message of a removal among three processes fits the schema, raw and through a connection codec inside a msgs frame', () => {
    const n = 3;
    const f = 1;
    const processes = [1, 2, 3].map((id) => new Membership(id, { n, f, retryMs: 100 }));
    const check = frameCheck(peerMessageCheck(protocolMessageCheck('tempo', n)!, membershipMessageCheck(n, f)), n);
    const encoder = connectionCodec();
    const decoder = connectionCodec();
    const seen = new Set<string>();
    const problems: string[] = [];
    // Process 3 is behind (it misses the decision) and asks for it with MConfigStatus.
    let queue: Array<{ from: number; to: number; msg: MembershipMessage }> = [];
    const take = (from: number) => {
      for (const output of processes[from - 1]!.drain()) for (const to of output.to) queue.push({ from, to, msg: output.msg });
    };
    expect(processes[0]!.requestRemoval(2, 0)).toBeUndefined();
    take(1);
    for (let now = 1; now < 1000 && (queue.length > 0 || processes.some((p) => p.epoch === 0)); now += 10) {
      const batch = queue;
      queue = [];
      for (const { from, to, msg } of batch) {
        seen.add(msg.type);
        const raw = check({ k: 'msgs', msgs: [msg] }, 'frame');
        if (raw !== null) problems.push(raw);
        const decoded = decoder.decode(encoder.encode({ k: 'msgs', msgs: [msg] }));
        expect(decoded).toEqual({ k: 'msgs', msgs: [msg] });
        const wire = check(decoded, 'frame');
        if (wire !== null) problems.push(`after the codec: ${wire}`);
        // Process 3 misses the first round of decisions.
        if (to === 3 && msg.type === 'MConfigDecided' && !seen.has('dropped')) {
          seen.add('dropped');
          continue;
        }
        processes[to - 1]!.handle(from, msg, now);
        take(to);
      }
      for (const p of processes) {
        p.tick(now);
        take(p.self);
      }
    }
    expect(problems).toEqual([]);
    for (const p of processes) expect([p.epoch, p.members]).toEqual([1, [1, 3]]);
    for (const type of ['MConfigPrepare', 'MConfigPromise', 'MConfigAccept', 'MConfigAccepted', 'MConfigDecided', 'MConfigStatus']) expect(seen.has(type), type).toBe(true);
  });

  test('malformed membership messages are refused with their path: member lists, epochs, ballots, extra fields', () => {
    const check = frameCheck(peerMessageCheck(protocolMessageCheck('fpaxos', 3)!, membershipMessageCheck(3, 1)), 3);
    const msgs = (msg: unknown) => check({ k: 'msgs', msgs: [msg] }, 'frame');
    expect(msgs({ type: 'MConfigDecided', epoch: 0, members: [1, 3] })).toBeNull();
    expect(msgs({ type: 'MConfigPromise', epoch: 0, ballot: 129, abal: 0, aval: null })).toBeNull();
    expect(msgs({ type: 'MConfigDecided', epoch: 0, members: [3, 1] })).toBe('frame.msgs[0].members: members are not ascending and distinct');
    expect(msgs({ type: 'MConfigAccept', epoch: 0, ballot: 129, members: [1] })).toBe('frame.msgs[0].members: 1 members; a configuration has 2 to 3');
    expect(msgs({ type: 'MConfigAccept', epoch: 0, ballot: 129, members: [1, 4] })).toBe('frame.msgs[0].members: member 4 is not a process 1..3');
    expect(msgs({ type: 'MConfigPromise', epoch: 0, ballot: 129, abal: 1, aval: [1, 1] })).toBe('frame.msgs[0].aval: members are not ascending and distinct');
    expect(msgs({ type: 'MConfigDecided', epoch: 0, members: 'all' })).toBe('frame.msgs[0].members: members is not a list');
    expect(msgs({ type: 'MConfigStatus', epoch: -1 })).toMatch(/^frame\.msgs\[0\]\.epoch: expected an integer from 0/);
    expect(msgs({ type: 'MConfigPrepare', epoch: 0, ballot: 0 })).toMatch(/^frame\.msgs\[0\]\.ballot: expected an integer from 1/);
    expect(msgs({ type: 'MConfigAccepted', epoch: 0.5, ballot: 1 })).toMatch(/^frame\.msgs\[0\]\.epoch: expected an integer/);
    expect(msgs({ type: 'MConfigStatus', epoch: 0, members: [1, 2] })).toBe("frame.msgs[0]: unexpected field 'members'");
    // The protocol's own messages are still checked by its schema.
    expect(msgs({ type: 'MConfigure', epoch: 0 })).toMatch(/unknown fpaxos message type "MConfigure"/);
  });
});

/** Opens a raw connection as peer 2, sends `msgs`, resolves once the replica closes it. */
function sendAsPeer(port: number, msgs: readonly unknown[]): Promise<void> {
  return poke(port, [frame(MSGPACK_CODEC.encode({ k: 'hello', role: 'peer', id: 2 })), frame(MSGPACK_CODEC.encode({ k: 'msgs', msgs }))], false, 10_000);
}

describe('hostile membership messages on a live cluster', () => {
  test('malformed member lists and epochs are refused with one log line each; the configuration does not change and everyone is served', async () => {
    const pids: number[] = [];
    const options = runtimeOptions({
      protocol: 'tempo',
      workload: { commandsPerClient: 30, conflictRate: 30, sharedKeys: 2 },
      extra: {
        onChild: (pid) => pids.push(pid),
        beforeClients: async (addresses) => {
          const port = addresses[0]!.port;
          await Promise.all([
            sendAsPeer(port, [{ type: 'MConfigDecided', epoch: 0, members: [3, 1] }]),
            sendAsPeer(port, [{ type: 'MConfigDecided', epoch: 0, members: [1] }]),
            sendAsPeer(port, [{ type: 'MConfigAccept', epoch: 0, ballot: 130, members: [0, 1, 2] }]),
            sendAsPeer(port, [{ type: 'MConfigPromise', epoch: 0, ballot: 130, abal: 1, aval: ['1', '2'] }]),
            sendAsPeer(port, [{ type: 'MConfigStatus', epoch: -3 }]),
            sendAsPeer(port, [{ type: 'MConfigPrepare', epoch: 0, ballot: 0 }]),
          ]);
        },
      },
    });
    const run = await runCluster(options);
    const refused = options.logs.filter((line) => line.startsWith('[replica 1] refused a frame from peer 2'));
    expect(refused).toHaveLength(6);
    const text = refused.join('\n');
    expect(text).toMatch(/frame\.msgs\[0\]\.members: members are not ascending and distinct/);
    expect(text).toMatch(/frame\.msgs\[0\]\.members: 1 members; a configuration has 2 to 3/);
    expect(text).toMatch(/frame\.msgs\[0\]\.members: member 0 is not a process 1\.\.3/);
    expect(text).toMatch(/frame\.msgs\[0\]\.aval: member 1 is not a process 1\.\.3/);
    expect(text).toMatch(/frame\.msgs\[0\]\.epoch: expected an integer from 0/);
    expect(text).toMatch(/frame\.msgs\[0\]\.ballot: expected an integer from 1/);
    expect(run.result.commandsCompleted).toBe(3 * 3 * 30);
    for (const stats of run.replicas.values()) expect([stats.epoch, stats.members]).toEqual([0, [1, 2, 3]]);
    expect(run.replicas.get(1)!.refusedFrames).toBe(6);
    expect(options.logs.filter((l) => /fatal|configuration 1/.test(l))).toEqual([]);
    expectNoOrphans(pids);
  });
});

/**
 * kill -9 of one replica with `removeAfterMs` 1000: the survivors' detectors suspect it (200 ms),
 * they remove it a second later, and the clients go on. For FPaxos the victim is the leader, so the
 * removal follows a leader change; for the leaderless protocols it is process 3.
 */
describe('kill -9, then removal after a long suspicion', () => {
  const cases: ReadonlyArray<{ protocol: ProtocolName; victim: number }> = [
    { protocol: 'tempo', victim: 3 },
    { protocol: 'fpaxos', victim: 1 },
    { protocol: 'atlas', victim: 3 },
    { protocol: 'epaxos', victim: 3 },
  ];
  for (const { protocol, victim } of cases) {
    const survivors = [1, 2, 3].filter((p) => p !== victim);
    test(`${protocol} n=3 f=1: process ${victim} dies; both survivors decide configuration 1 = {${survivors.join(', ')}}, clients keep completing commands after it, the history checks out`, async () => {
      const pids: number[] = [];
      const decided = new Map<number, number>();
      const stop = signal();
      const options = runtimeOptions({
        protocol,
        config: { f: 1, recoveryTimeoutMs: 200 },
        clientsPerRegion: 2,
        workload: { commandsPerClient: 1_000_000, conflictRate: 50, sharedKeys: 3, readRatio: 30 },
        extra: {
          onChild: (pid) => pids.push(pid),
          // Open loop keeps the history small enough to check whatever the machine's speed.
          openLoopRate: 100,
          durationMs: 60_000,
          stopClients: stop.promise,
          crashes: [{ process: victim, afterMs: 300 }],
          failureDetector: { heartbeatMs: 20, timeoutMs: 200, timeoutMsMax: 5000 },
          removeAfterMs: 1000,
          clientTimeoutMs: 1000,
          graceMs: 5000,
        },
      });
      const onLog = options.onLog!;
      const seenDecision = (line: string) => {
        onLog(line);
        const match = /^\[replica (\d+)\] configuration 1: members (.*)$/.exec(line);
        if (match === null) return;
        decided.set(Number(match[1]), wallMs());
        if (survivors.every((p) => decided.has(p))) setTimeout(stop.fire, 1000);
      };
      const run = await runCluster({ ...options, onLog: seenDecision });
      expect(run.crashed).toEqual([victim]);
      for (const p of survivors) expect(options.logs).toContain(`[replica ${p}] configuration 1: members ${survivors.join(', ')}`);
      for (const stats of run.replicas.values()) expect([stats.id, stats.epoch, stats.members, stats.removed]).toEqual([stats.id, 1, survivors, false]);
      // Removed only after the suspicion lasted removeAfterMs.
      const killedAt = run.crashedAtMs.get(victim)!;
      for (const at of decided.values()) expect(at - killedAt).toBeGreaterThan(1000);
      // Commands invoked after the last survivor learned the removal completed, at survivors only.
      const removedAt = Math.max(...decided.values());
      const history = run.result.history!;
      const after = history.filter((e) => e.invokeMs > removedAt);
      expect(after.length).toBeGreaterThan(0);
      expect(after.every((e) => survivors.includes(e.process))).toBe(true);
      expect(run.pending).toEqual([]);
      expect(run.result.messagesByType.get('MConfigDecided') ?? 0).toBeGreaterThan(0);
      for (const stats of run.replicas.values()) expect(stats.refusedFrames).toBe(0);
      expectSafeRun(run);
      expectNoOrphans(pids);
    }, 90_000);
  }
});

describe('orrery admin', () => {
  test('admin remove 3 on a live tempo cluster: exits 0 with the new configuration; 3 stops serving and its clients go on elsewhere; refusals and bad requests exit 2', async () => {
    const pids: number[] = [];
    const stop = signal();
    const outcomes: Record<string, { code: number | null; stdout: string; stderr: string }> = {};
    let removedAt = 0;
    const options = runtimeOptions({
      protocol: 'tempo',
      config: { f: 1, recoveryTimeoutMs: 200 },
      clientsPerRegion: 2,
      workload: { commandsPerClient: 1_000_000, conflictRate: 50, sharedKeys: 3, readRatio: 30 },
      extra: {
        onChild: (pid) => pids.push(pid),
        openLoopRate: 100,
        durationMs: 60_000,
        stopClients: stop.promise,
        removeAfterMs: null,
        clientTimeoutMs: 1000,
        graceMs: 5000,
        beforeClients: async (addresses) => {
          const replicas = addresses.map((a) => `${a.host}:${a.port}`).join(',');
          // Let the clients start, then operate on the cluster while it serves them.
          void new Promise((resolve) => setTimeout(resolve, 300))
            .then(async () => {
              outcomes['remove 3'] = await cli(['admin', 'remove', '3', '--replica', replicas]);
              removedAt = wallMs();
              outcomes['status'] = await cli(['admin', 'status', '--replica', replicas]);
              outcomes['remove 2'] = await cli(['admin', 'remove', '2', '--replica', replicas]);
              outcomes['remove 9'] = await cli(['admin', 'remove', '9', '--replica', replicas]);
              outcomes['remove 3 again'] = await cli(['admin', 'remove', '3', '--replica', replicas]);
              await new Promise((resolve) => setTimeout(resolve, 1000));
            })
            .finally(stop.fire);
        },
      },
    });
    const run = await runCluster(options);
    expect(outcomes['remove 3']!.stderr).toBe('');
    expect(outcomes['remove 3']!.stdout).toMatch(/^process 3 removed: configuration 1: members 1, 2 \(decided; answered by replica 1 at 127\.0\.0\.1:\d+\)\n$/);
    expect(outcomes['remove 3']!.code).toBe(0);
    expect(outcomes['status']!.code).toBe(0);
    const status = outcomes['status']!.stdout.trim().split('\n');
    expect(status).toHaveLength(3);
    expect(status[0]).toMatch(/^replica 1 at 127\.0\.0\.1:\d+: configuration 1: members 1, 2$/);
    expect(status[1]).toMatch(/^replica 2 at 127\.0\.0\.1:\d+: configuration 1: members 1, 2$/);
    expect(status[2]).toMatch(/^replica 3 at 127\.0\.0\.1:\d+: configuration 1: members 1, 2 \(this replica was removed: it serves no one\)$/);
    expect([outcomes['remove 2']!.code, outcomes['remove 2']!.stdout]).toEqual([2, '']);
    expect(outcomes['remove 2']!.stderr).toMatch(/^orrery: replica 1 at 127\.0\.0\.1:\d+ refused to remove process 2: removing process 2 would leave 1 members; at least n − f = 2 must remain\n$/);
    expect(outcomes['remove 9']!.code).toBe(2);
    expect(outcomes['remove 9']!.stderr).toMatch(/refused to remove process 9: process 9 does not exist \(1\.\.3\)\n$/);
    expect(outcomes['remove 3 again']!.code).toBe(2);
    expect(outcomes['remove 3 again']!.stderr).toMatch(/refused to remove process 3: process 3 is not a member of configuration 1\n$/);
    // Replica 3 learned it was removed and stopped serving; it was not killed.
    expect(run.crashed).toEqual([]);
    expect(options.logs).toContain('[replica 3] removed from the configuration at epoch 1: stops serving; its clients go to the other replicas');
    const stats3 = run.replicas.get(3)!;
    expect([stats3.removed, stats3.epoch, stats3.members]).toEqual([true, 1, [1, 2]]);
    for (const p of [1, 2]) expect([run.replicas.get(p)!.removed, run.replicas.get(p)!.epoch]).toEqual([false, 1]);
    // The clients process 3 served went on with 1 and 2.
    const history = run.result.history!;
    const servedBy3 = new Set(history.filter((e) => e.process === 3).map((e) => e.client));
    expect(servedBy3.size).toBeGreaterThan(0);
    const after = history.filter((e) => e.invokeMs > removedAt);
    expect(after.every((e) => e.process !== 3)).toBe(true);
    expect(new Set(after.filter((e) => servedBy3.has(e.client)).map((e) => e.client))).toEqual(servedBy3);
    expect(run.pending).toEqual([]);
    expectSafeRun(run);
    expectNoOrphans(pids);
  }, 90_000);

  test('bad admin requests: one line, exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['admin', 'status', '--replica', '127.0.0.1:1'], /^orrery: no replica answered: cannot reach 127\.0\.0\.1:1 \(ECONNREFUSED\)\n$/],
      [['admin', 'remove', '2', '--replica', '127.0.0.1:1'], /^orrery: no replica could take the request to remove process 2: cannot reach 127\.0\.0\.1:1 \(ECONNREFUSED\)\n$/],
      [['admin', 'remove', '--replica', '127.0.0.1:1'], /^orrery: 'orrery admin remove' needs the id of the process to remove/],
      [['admin', 'status'], /^orrery: name the replicas with either --cluster FILE or --replica/],
      [['admin', 'status', '--replica', 'nowhere'], /^orrery: --replica must list addresses HOST:PORT/],
      [['admin', 'evict', '2', '--replica', '127.0.0.1:1'], /^orrery: name an admin action: remove, status \(got 'evict'\)\n$/],
      [['run', '--remove-after-ms', 'soon'], /^orrery: --remove-after-ms must be milliseconds from 1 to 3600000, or 0 \/ 'off'/],
      [['run', '--kill', '4@10s'], /^orrery: --kill takes P@TIME items, comma-separated, P a process 1\.\.3/],
    ];
    for (const [args, expected] of cases) {
      const outcome = await cli(args);
      expect([args.join(' '), outcome.code, outcome.stdout]).toEqual([args.join(' '), 2, '']);
      expect(outcome.stderr).toMatch(expected);
      expect(outcome.stderr.trim().split('\n')).toHaveLength(1);
    }
  }, 60_000);
});
