/**
 * The CPU model (sim/cpu.ts): saturation under load, leader bottlenecks against spread load,
 * determinism, executor cores and the NIC — with toy profiles whose capacity is easy to compute.
 */
import { describe, expect, test } from 'vitest';
import type { ProtocolName } from '../core/config.js';
import { makeReport } from '../sim/report.js';
import { Simulation, type SimulationResult } from '../sim/simulation.js';
import type { CpuOptions } from '../sim/cpu.js';
import { simulationOptions } from './support/simulate.js';
import { toyCosts, toyProfile } from './support/cpu-profiles.js';

const REGIONS = ['us-east1', 'us-east4', 'us-central1'];
const NS_PER_S = 1e9;

function run(protocol: ProtocolName, clientsPerRegion: number, cpu: CpuOptions | undefined, extra: { commands?: number; payloadBytes?: number; seed?: number; shards?: number } = {}): SimulationResult {
  const options = simulationOptions({
    protocol,
    regions: REGIONS,
    clientsPerRegion,
    workload: { commandsPerClient: extra.commands ?? 30, payloadBytes: extra.payloadBytes ?? 0 },
    seed: extra.seed ?? 1,
    config: { executorShards: extra.shards ?? 1 },
  });
  return new Simulation({ ...options, recordHistory: false, ...(cpu === undefined ? {} : { cpu }) }).run();
}

function throughput(result: SimulationResult): number {
  return result.commandsCompleted / (result.durationNs / NS_PER_S);
}

describe('saturation: with a toy profile, throughput plateaus and latency grows as clients increase', () => {
  // 50 µs per input: FPaxos's leader handles ~5 inputs per command (a submit or a forward, its own
  // accept, the accepted, the chosen), so it saturates near 4,000 commands/s, below what 3×64 clients
  // offer over links of 10–30 ms.
  const cpu: CpuOptions = { profile: toyProfile(['fpaxos'], toyCosts(50_000)), cores: 1 };
  const counts = [1, 4, 128, 256, 512];
  const points = counts.map((clients) => {
    const result = run('fpaxos', clients, cpu, { commands: clients >= 128 ? 20 : 40 });
    return { clients, throughput: throughput(result), p50: result.latencyNs.summary((ns) => ns / 1e6).p50 };
  });

  test('throughput grows with clients while the leader has spare capacity', () => {
    expect(points[1]!.throughput).toBeGreaterThan(3 * points[0]!.throughput);
  });

  test('and then plateaus at the leader\'s capacity: 5 inputs × 50 µs per command = 4,000 commands/s', () => {
    const [, , at128, at256, at512] = points;
    expect(at512!.throughput / at256!.throughput).toBeLessThan(1.05);
    expect(at256!.throughput / at128!.throughput).toBeLessThan(1.1);
    expect(at512!.throughput).toBeGreaterThan(3800);
    expect(at512!.throughput).toBeLessThanOrEqual(4000);
  });

  test('while latency keeps growing with the queue at the leader', () => {
    const [at1, , at128, at256, at512] = points;
    expect(at256!.p50).toBeGreaterThan(1.8 * at128!.p50);
    expect(at512!.p50).toBeGreaterThan(1.8 * at256!.p50);
    expect(at512!.p50).toBeGreaterThan(10 * at1!.p50);
  });

  test('without the CPU model the same load does not saturate (the plateau is the model)', () => {
    const at256 = throughput(run('fpaxos', 256, undefined, { commands: 20 }));
    const at512 = throughput(run('fpaxos', 512, undefined, { commands: 20 }));
    expect(at512 / at256).toBeGreaterThan(1.8);
  });
});

describe('per-process utilisation: a leader saturates, leaderless protocols spread the load', () => {
  const costs = toyCosts(20_000);
  test('FPaxos: the leader is busy, the followers are not', () => {
    const result = run('fpaxos', 256, { profile: toyProfile(['fpaxos'], costs), cores: 1 }, { commands: 20 });
    const usage = result.cpu!.usage;
    expect(usage.map((u) => u.process)).toEqual([1, 2, 3]);
    expect(usage[0]!.protocolCore).toBeGreaterThan(0.9);
    expect(usage[1]!.protocolCore).toBeLessThan(0.6);
    expect(usage[2]!.protocolCore).toBeLessThan(0.6);
  });

  for (const protocol of ['tempo', 'atlas', 'epaxos'] as const) {
    test(`${protocol}: every process works about as hard, and it beats the leader's throughput`, () => {
      const profile = toyProfile([protocol, 'fpaxos'], costs);
      const result = run(protocol, 256, { profile, cores: 1 }, { commands: 20 });
      const loads = result.cpu!.usage.map((u) => u.protocolCore);
      expect(Math.min(...loads)).toBeGreaterThan(0.5);
      expect(Math.max(...loads) / Math.min(...loads)).toBeLessThan(1.3);
      const leader = run('fpaxos', 256, { profile, cores: 1 }, { commands: 20 });
      expect(throughput(result)).toBeGreaterThan(1.2 * throughput(leader));
    });
  }

  test('the report carries the utilisation when the model is on, and nothing when it is off', () => {
    const on = makeReport(run('tempo', 4, { profile: toyProfile(['tempo'], costs), cores: 4 }));
    expect(on.cpu?.cores).toBe(4);
    expect(on.cpu?.processes).toHaveLength(3);
    expect(on.cpu?.processes[0]!.region).toBe('us-east1');
    expect(makeReport(run('tempo', 4, undefined)).cpu).toBeUndefined();
  });
});

describe('determinism with the CPU model on', () => {
  const cpu: CpuOptions = { profile: toyProfile(['tempo', 'atlas'], toyCosts(5_000, { executeNs: { Committed: 3_000 }, executedNs: 1_000 })), cores: 3, nicBytesPerSec: 1e8 };
  for (const protocol of ['tempo', 'atlas'] as const) {
    test(`${protocol}: same seed, same report; another seed, another one`, () => {
      const report = (seed: number) => JSON.stringify(makeReport(run(protocol, 40, cpu, { seed, shards: 2, payloadBytes: 1024 })));
      const first = report(7);
      expect(report(7)).toBe(first);
      expect(report(8)).not.toBe(first);
    });
  }
});

describe('executor cores and the NIC', () => {
  test('Tempo spreads executor work over min(cores − 1, shards) cores; FPaxos uses one', () => {
    const costs = toyCosts(1_000, { executeNs: { Committed: 10_000 }, executedNs: 0 });
    const tempo = run('tempo', 30, { profile: toyProfile(['tempo'], costs), cores: 8 }, { shards: 4 });
    expect(tempo.cpu!.executorCores).toBe(4);
    for (const usage of tempo.cpu!.usage) for (const core of usage.executorCores) expect(core).toBeGreaterThan(0);
    const fpaxos = run('fpaxos', 30, { profile: toyProfile(['fpaxos'], costs), cores: 8 });
    expect(fpaxos.cpu!.executorCores).toBe(1);
    expect(() => run('fpaxos', 1, { profile: toyProfile(['fpaxos'], costs), cores: 8, executorCores: 2 })).toThrow(/at most 1 executor core/);
  });

  test('inline executors slow the protocol core; separate ones do not', () => {
    // Inline: 5 inputs × 20 µs + 160 µs per command on one core; separate: the executor's 160 µs alone.
    const costs = toyCosts(20_000, { executeNs: { info: 160_000 } });
    const inline = run('fpaxos', 256, { profile: toyProfile(['fpaxos'], costs), cores: 1 }, { commands: 10 });
    const separate = run('fpaxos', 256, { profile: toyProfile(['fpaxos'], costs), cores: 2 }, { commands: 10 });
    expect(throughput(separate)).toBeGreaterThan(1.3 * throughput(inline));
  });

  test('a slow NIC caps the leader at its rate over the bytes it sends per command', () => {
    const nicBytesPerSec = 10_000_000;
    const payloadBytes = 4096;
    const cpu: CpuOptions = { profile: toyProfile(['fpaxos'], toyCosts(100)), cores: 1, nicBytesPerSec };
    const result = run('fpaxos', 256, cpu, { commands: 10, payloadBytes });
    // Per command the leader sends the payload to 1 other acceptor of its write quorum (f + 1 = 2,
    // itself included) and in 2 chosen messages.
    const bound = nicBytesPerSec / (3 * payloadBytes);
    expect(throughput(result)).toBeLessThan(bound * 1.02);
    expect(throughput(result)).toBeGreaterThan(bound * 0.8);
    expect(result.cpu!.usage[0]!.nic).toBeGreaterThan(0.8);
  });

  test('a profile without the protocol is refused with a message naming the fix', () => {
    expect(() => run('tempo', 1, { profile: toyProfile(['fpaxos'], toyCosts(1)), cores: 1 })).toThrow(/no costs for tempo.*orrery calibrate --protocol tempo/);
  });
});
