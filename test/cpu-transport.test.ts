/**
 * The CPU model's transport terms (sim/cpu.ts, calibrated by cli/calibrate-transport.ts): event-loop
 * turns, a cost per frame and per message on each side, and how the simulator charges them — with
 * toy profiles whose figures make the expected times and capacities easy to compute.
 */
import { describe, expect, test } from 'vitest';
import type { ProtocolName } from '../core/config.js';
import type { ExecutionResult, Message } from '../core/process.js';
import { CpuModel, parseCpuProfile, type CpuOptions, type TransportCosts } from '../sim/cpu.js';
import { Simulation, type SimulationResult } from '../sim/simulation.js';
import { simulationOptions } from './support/simulate.js';
import { toyCosts, toyProfile, toyTransport } from './support/cpu-profiles.js';

const REGIONS = ['us-east1', 'us-east4', 'us-central1'];

function run(protocol: ProtocolName, clientsPerRegion: number, cpu: CpuOptions, commands = 20): SimulationResult {
  const options = simulationOptions({ protocol, regions: REGIONS, clientsPerRegion, workload: { commandsPerClient: commands } });
  return new Simulation({ ...options, recordHistory: false, cpu }).run();
}

const throughput = (result: SimulationResult) => result.commandsCompleted / (result.durationNs / 1e9);
const msg = (type: string) => ({ type }) as unknown as Message;

describe('turns and frames: what one input costs, exactly', () => {
  const transport = toyTransport({ turnNs: 1000, wakeNs: 4000, sendFrameNs: 300, sendMessageNs: 70, sendCodecNs: 50, recvFrameNs: 200, recvMessageNs: 40, recvCodecNs: 30, submitRecvFrameNs: 900, submitRecvMessageNs: 90, replySendFrameNs: 800, replySendMessageNs: 80 });
  const costs = toyCosts(0, { handleNs: { MAccept: 5, submit: 7 }, encodeNs: { MAccepted: 50 }, decodeNs: { MAccept: 30 }, transport });
  const model = () => new CpuModel('fpaxos', 3, { profile: toyProfile(['fpaxos'], costs), cores: 1 }, 1, false);

  test('the first input of a turn pays the turn and its connection\'s frame; one joining it pays neither', () => {
    const cpu = model();
    // Process 1, idle, gets an MAccept from process 2 at t = 100 and answers processes 2 and 3.
    let start = cpu.begin(0, 100, 'MAccept', 0, 1);
    cpu.chargeHandle('MAccept');
    cpu.chargeSend(msg('MAccepted'), [2, 3]);
    const first = cpu.complete(0, start);
    // wake 4000 + turn 1000 + frame in 200 + message in (30 + 40 − 30) + handle 5 + 2 × (frame out 300 + copy 50 + 70 − 50)
    expect(first.sendNs - 100).toBe(4000 + 1000 + 200 + 40 + 5 + 2 * (300 + 70));
    // A second MAccept from process 2 that was there at the same poll: same turn, same frames.
    start = cpu.begin(0, 100, 'MAccept', 0, 1);
    cpu.chargeHandle('MAccept');
    cpu.chargeSend(msg('MAccepted'), [2, 3]);
    const second = cpu.complete(0, start);
    expect(second.sendNs - first.sendNs).toBe(40 + 5 + 2 * 70);
    // One arriving during that turn (t = 110) waits for the next turn: a new turn, new frames, no
    // wake-up (the process was busy).
    start = cpu.begin(0, 110, 'MAccept', 0, 1);
    expect(start).toBe(second.sendNs);
    cpu.chargeHandle('MAccept');
    cpu.chargeSend(msg('MAccepted'), [2]);
    const third = cpu.complete(0, start);
    expect(third.sendNs - second.sendNs).toBe(1000 + 200 + 40 + 5 + 300 + 70);
    // And one more that arrived before that turn polled (t = 120 < its poll) joins it.
    start = cpu.begin(0, 120, 'MAccept', 0, 1);
    cpu.chargeHandle('MAccept');
    const fourth = cpu.complete(0, start);
    expect(fourth.sendNs - third.sendNs).toBe(40 + 5);
    const usage = cpu.usage(fourth.sendNs)[0]!;
    expect([usage.turns, usage.framesReceived, usage.framesSent]).toEqual([2, 2, 3]);
  });

  test('client submits and replies use the client connection\'s figures; timers pay only the turn (and the wake-up)', () => {
    const cpu = model();
    let start = cpu.begin(0, 0, 'submit', 0, 3);
    cpu.chargeHandle('submit');
    cpu.chargeReply();
    cpu.chargeReply();
    const first = cpu.complete(0, start);
    // At t = 0 the core is not idle yet (it frees at 0): no wake-up.
    expect(first.sendNs).toBe(1000 + 900 + 90 + 7 + 800 + 80 + 80);
    start = cpu.begin(0, first.sendNs + 1, undefined, 0, -1);
    const timer = cpu.complete(0, start);
    expect(timer.sendNs - start).toBe(4000 + 1000);
    const usage = cpu.usage(timer.sendNs)[0]!;
    expect([usage.turns, usage.framesReceived, usage.replyFramesSent]).toEqual([2, 1, 1]);
  });

  test('the replica replay\'s residual adds its cost per wire input and per frame read', () => {
    const cpu = new CpuModel('fpaxos', 3, { profile: toyProfile(['fpaxos'], { ...costs, replica: { inputNs: 11, frameNs: 13 } }), cores: 1 }, 1, false);
    let start = cpu.begin(0, 100, 'MAccept', 0, 1);
    cpu.chargeHandle('MAccept');
    const first = cpu.complete(0, start);
    expect(first.sendNs - 100).toBe(4000 + 1000 + 200 + 13 + 40 + 11 + 5);
    start = cpu.begin(0, 100, 'MAccept', 0, 1);
    cpu.chargeHandle('MAccept');
    expect(cpu.complete(0, start).sendNs - first.sendNs).toBe(40 + 11 + 5);
    // Timers are not wire inputs.
    start = cpu.begin(0, 1e6, undefined, 0, -1);
    expect(cpu.complete(0, start).sendNs - 1e6).toBe(4000 + 1000);
  });

  test('the live calibration\'s residual adds its cost per wake-up too; a busy turn pays none', () => {
    const cpu = new CpuModel('fpaxos', 3, { profile: toyProfile(['fpaxos'], { ...costs, replica: { inputNs: 11, frameNs: 13, wakeNs: 17, clientCommandNs: 19 } }), cores: 1 }, 1, false);
    let start = cpu.begin(0, 100, 'MAccept', 0, 1);
    cpu.chargeHandle('MAccept');
    const first = cpu.complete(0, start);
    expect(first.sendNs - 100).toBe(4000 + 17 + 1000 + 200 + 13 + 40 + 11 + 5);
    // Arriving while that turn runs: the next turn starts on a busy core, no wake-up to pay.
    start = cpu.begin(0, 110, 'MAccept', 0, 1);
    cpu.chargeHandle('MAccept');
    expect(cpu.complete(0, start).sendNs - first.sendNs).toBe(1000 + 200 + 13 + 40 + 11 + 5);
    // A timer on an idle process wakes it: turn, wake-up and the residual's wake-up.
    start = cpu.begin(0, 1e6, undefined, 0, -1);
    expect(cpu.complete(0, start).sendNs - 1e6).toBe(4000 + 17 + 1000);
  });

  test('an executor that counts search work is charged executeUnitNs per unit, on top of its info and parts', () => {
    const profile = toyProfile(['atlas'], toyCosts(0, { executeNs: { info: 100 }, executedNs: 10, executeUnitNs: 3 }));
    const cpu = new CpuModel('atlas', 3, { profile, cores: 1 }, 1, false);
    let work = 0;
    const inner = {
      handle: (info: { units: number }) => {
        work += info.units;
      },
      drain: () => [] as ExecutionResult[],
      workDone: () => work,
    };
    const executor = cpu.meterExecutor(inner, 0);
    let start = cpu.begin(0, 0, undefined, 0, -1);
    executor.handle({ units: 40 }, 0);
    executor.drain();
    const first = cpu.complete(0, start);
    expect(first.sendNs - start).toBe(100 + 3 * 40);
    // The next call is charged only the units it added.
    start = cpu.begin(0, first.sendNs, undefined, 0, -1);
    executor.handle({ units: 5 }, 0);
    executor.drain();
    expect(cpu.complete(0, start).sendNs - start).toBe(100 + 3 * 5);
  });

  test('without transport costs nothing of it is charged (older profiles keep their meaning)', () => {
    const cpu = new CpuModel('fpaxos', 3, { profile: toyProfile(['fpaxos'], toyCosts(0, { handleNs: { MAccept: 5 }, encodeNs: { MAccepted: 50 }, decodeNs: { MAccept: 30 } })), cores: 1 }, 1, false);
    const start = cpu.begin(0, 0, 'MAccept', 0, 1);
    cpu.chargeHandle('MAccept');
    cpu.chargeSend(msg('MAccepted'), [2, 3]);
    expect(cpu.complete(0, start).sendNs).toBe(30 + 5 + 100);
    expect(cpu.usage(1)[0]!.turns).toBe(0);
  });
});

describe('in a run: a profile with only transport costs', () => {
  test('per-message transport costs are the codec costs they stand for: the same run to the byte', () => {
    // 10 µs per copy sent and 10 µs per message received, either as codec or as transport.
    const asCodec = toyCosts(0, { encodeNs: { MAccept: 10_000 }, decodeNs: { MAccept: 10_000, submit: 10_000 } });
    const asTransport = toyCosts(0, { transport: toyTransport({ sendMessageNs: 10_000, recvMessageNs: 10_000, submitRecvMessageNs: 10_000, replySendMessageNs: asCodec.encodeNs['MAccept']! }) });
    const a = run('fpaxos', 64, { profile: toyProfile(['fpaxos'], { ...asCodec, encodeNs: { ...asCodec.encodeNs, reply: 10_000 } }), cores: 1 });
    const b = run('fpaxos', 64, { profile: toyProfile(['fpaxos'], asTransport), cores: 1 });
    expect(b.latencyNs.summary((ns) => ns).p50).toBe(a.latencyNs.summary((ns) => ns).p50);
    expect(b.durationNs).toBe(a.durationNs);
    expect(b.cpu!.usage.map((u) => u.busyNs)).toEqual(a.cpu!.usage.map((u) => u.busyNs));
  });

  test('the leader\'s capacity is its transport work per command: 20 µs per message each way', () => {
    // FPaxos n = 3, leader 1, clients of all 3 regions: per command the leader receives a submit or
    // a forward and one MAccepted, sends one MAccept and two MChosen, and replies to a third of the
    // clients. Self-deliveries cross no wire. That is 2 + 3 + 1/3 messages: 20 µs × 16/3 ≈ 106.7 µs,
    // 9,375 commands/s.
    const costs = toyCosts(0, { transport: toyTransport({ sendMessageNs: 20_000, recvMessageNs: 20_000, submitRecvMessageNs: 20_000, replySendMessageNs: 20_000 }) });
    const result = run('fpaxos', 256, { profile: toyProfile(['fpaxos'], costs), cores: 1 }, 15);
    expect(throughput(result)).toBeGreaterThan(9_375 * 0.9);
    expect(throughput(result)).toBeLessThanOrEqual(9_375 * 1.01);
    expect(result.cpu!.usage[0]!.protocolCore).toBeGreaterThan(0.9);
  });

  test('frame costs are shared by a turn\'s messages: batching grows with load and lifts the capacity', () => {
    const transport: TransportCosts = toyTransport({ turnNs: 5_000, sendFrameNs: 20_000, recvFrameNs: 20_000, submitRecvFrameNs: 20_000, replySendFrameNs: 20_000, sendMessageNs: 1_000, recvMessageNs: 1_000 });
    const cpu: CpuOptions = { profile: toyProfile(['fpaxos'], toyCosts(0, { transport })), cores: 1 };
    const light = run('fpaxos', 1, cpu, 30);
    const heavy = run('fpaxos', 256, cpu, 15);
    const perFrame = (r: SimulationResult) => r.messagesTotal / r.cpu!.usage.reduce((s, u) => s + u.framesSent, 0);
    // One client per region: almost every message travels alone.
    expect(perFrame(light)).toBeLessThan(1.2);
    // Saturated: the leader's turns carry many messages per frame.
    expect(perFrame(heavy)).toBeGreaterThan(5);
    // Unbatched, the leader would pay at least 5 frames of 20 µs per command: under 10,000 commands/s.
    expect(throughput(heavy)).toBeGreaterThan(10_000);
  });
});

describe('determinism with transport costs', () => {
  test('same seed, same run; turns and frames included', () => {
    const transport = toyTransport({ turnNs: 700, wakeNs: 3_000, sendFrameNs: 5_000, recvFrameNs: 4_000, sendMessageNs: 500, recvMessageNs: 600, submitRecvFrameNs: 4_000, replySendFrameNs: 5_000 });
    const cpu: CpuOptions = { profile: toyProfile(['tempo'], toyCosts(300, { transport })), cores: 1 };
    const a = run('tempo', 16, cpu, 10);
    const b = run('tempo', 16, cpu, 10);
    expect(b.cpu!.usage).toEqual(a.cpu!.usage);
    expect(b.durationNs).toBe(a.durationNs);
    expect(a.cpu!.usage[0]!.turns).toBeGreaterThan(0);
  });
});

describe('the profile\'s transport table', () => {
  const withTransport = (transport: unknown) =>
    JSON.stringify({ ...toyProfile(['fpaxos'], toyCosts(1)), protocols: { fpaxos: { ...toyCosts(1), transport } } });

  test('parses back to itself', () => {
    const transport = toyTransport({ sendFrameNs: 5000, recvMessageNs: 300 });
    expect(parseCpuProfile(withTransport(transport), 'p').protocols.fpaxos!.transport).toEqual(transport);
  });

  test('the replica table parses, and an unknown field is refused', () => {
    const text = JSON.stringify({ ...toyProfile(['fpaxos'], toyCosts(1)), protocols: { fpaxos: { ...toyCosts(1), replica: { inputNs: 5, frameNs: 7 } } } });
    expect(parseCpuProfile(text, 'p').protocols.fpaxos!.replica).toEqual({ inputNs: 5, frameNs: 7 });
    const bad = JSON.stringify({ ...toyProfile(['fpaxos'], toyCosts(1)), protocols: { fpaxos: { ...toyCosts(1), replica: { inputNs: 5, frameNs: 7, gcNs: 1 } } } });
    expect(() => parseCpuProfile(bad, 'p')).toThrow(/p: protocols\.fpaxos\.replica\.gcNs is not a replica cost; accepted: inputNs, frameNs, wakeNs, clientCommandNs, clientFrameNs, clientWakeNs/);
  });

  test('a missing, unknown or negative figure is refused naming the field', () => {
    const { turnNs: _omitted, ...missing } = toyTransport();
    expect(() => parseCpuProfile(withTransport(missing), 'p')).toThrow(/p: protocols\.fpaxos\.transport\.turnNs is missing; calibrate again/);
    expect(() => parseCpuProfile(withTransport({ ...toyTransport(), frameNs: 1 }), 'p')).toThrow(/transport\.frameNs is not a transport cost; accepted: turnNs, wakeNs, sendFrameNs/);
    expect(() => parseCpuProfile(withTransport({ ...toyTransport(), sendFrameNs: -1 }), 'p')).toThrow(/transport\.sendFrameNs must be a non-negative number/);
  });
});
