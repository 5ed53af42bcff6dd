/** The validation script reads the runtime's throughput from either of its JSON outputs. */
import { describe, expect, test } from 'vitest';
import { predict, readRuntime, sharedPrediction } from '../bench/cpu-validate.js';
import { toyCosts, toyProfile, toyTransport } from './support/cpu-profiles.js';

describe('cpu:validate input', () => {
  test('bench:runtime --json: the saturated points with n = 3, worker shards and CPUs', () => {
    const text = JSON.stringify({
      cpus: 2,
      workerShards: 2,
      saturated: [
        { protocol: 'tempo', n: 3, clients: 129, opsPerSec: 1000 },
        { protocol: 'tempo', n: 5, clients: 130, opsPerSec: 900 },
      ],
    });
    expect(readRuntime(text, 'f')).toEqual({ points: [{ protocol: 'tempo', clients: 129, opsPerSec: 1000 }], workerShards: 2, cpus: 2 });
  });

  test('orrery run --json: one report', () => {
    const text = JSON.stringify({ protocol: 'atlas', config: { n: 3 }, workload: { clientsPerRegion: 10 }, latencyMs: { byRegion: [{}, {}, {}] }, throughputOpsPerSec: 1234 });
    expect(readRuntime(text, 'f').points).toEqual([{ protocol: 'atlas', clients: 30, opsPerSec: 1234 }]);
  });

  test('anything else is refused', () => {
    expect(() => readRuntime('{"protocol":"atlas","config":{"n":5},"throughputOpsPerSec":1}', 'f')).toThrow(/n = 5; the validation is for n = 3/);
    expect(() => readRuntime('[]', 'f')).toThrow(/neither/);
  });

  test('the prediction is the toy profile\'s capacity: 10 µs per input, ~5 leader inputs per command', () => {
    const predicted = predict(toyProfile(['fpaxos'], toyCosts(10_000)), { protocol: 'fpaxos', clients: 60, opsPerSec: 0 }, 0, 0.05);
    expect(predicted.opsPerSec).toBeGreaterThan(19_000);
    expect(predicted.opsPerSec).toBeLessThanOrEqual(20_000);
    expect(predicted.protocolCore[0]).toBeGreaterThan(0.95);
  });

  test('the live residual of the client process adds to the client side: per command, and per reply frame', () => {
    const transport = toyTransport({ clientCommandNs: 1_000, replyRecvFrameNs: 500 });
    const base = toyCosts(10_000, { transport });
    const point = { protocol: 'fpaxos' as const, clients: 60, opsPerSec: 0 };
    const without = predict(toyProfile(['fpaxos'], base), point, 0, 0.05);
    const withResidual = predict(toyProfile(['fpaxos'], { ...base, replica: { inputNs: 0, frameNs: 0, clientCommandNs: 3_000, clientFrameNs: 0 } }), point, 0, 0.05);
    expect(withResidual.opsPerSec).toBe(without.opsPerSec);
    expect(withResidual.clientNsPerOp! - without.clientNsPerOp!).toBe(3_000);
    const perFrame = predict(toyProfile(['fpaxos'], { ...base, replica: { inputNs: 0, frameNs: 0, clientFrameNs: 6_000 } }), point, 0, 0.05);
    // One reply frame per this many replies: the frame residual is shared by them.
    expect(perFrame.clientNsPerOp! - without.clientNsPerOp!).toBeCloseTo(6_000 / without.repliesPerFrame!, -1);
  });

  test('on a machine with fewer CPUs than processes, the prediction is capped by the CPU per command of all of them', () => {
    const prediction = { opsPerSec: 100_000, protocolCore: [1, 0.3, 0.3], replicaNsPerOp: 30_000, clientNsPerOp: 10_000, messagesPerFrame: 3, repliesPerFrame: 10 };
    // 2 CPUs / 40 µs per command = 50,000 commands/s, below the twin's 100,000.
    expect(sharedPrediction(prediction, 2)).toBe(50_000);
    // 8 CPUs would fit 200,000: the twin's own bottleneck stays.
    expect(sharedPrediction(prediction, 8)).toBe(100_000);
    expect(sharedPrediction(prediction, undefined)).toBe(100_000);
  });
});
