/**
 * `orrery calibrate`'s transport measurement (cli/calibrate-transport.ts) through the runtime's real
 * writer, a loopback socket and a sink process running the real reader: the profile's transport terms
 * are well-formed, positive where there is work, and the profile with them parses back to itself.
 * Runs compiled code in a child process (dist/), hence the runtime- prefix.
 */
import { describe, expect, test } from 'vitest';
import { calibrateWithTransport } from '../cli/calibrate.js';
import { parseCpuProfile, TRANSPORT_FIELDS } from '../sim/cpu.js';

describe('orrery calibrate: transport terms from the runtime\'s writer and reader', async () => {
  const profile = await calibrateWithTransport(
    { protocols: ['fpaxos'], clientsPerRegion: 4, commandsPerClient: 40, conflictRate: 2, command: 'test' },
    { batches: [1, 8], messagesPerPoint: 800, framesMin: 150, wakeFrames: 40 },
    true,
    { inputsPerTurn: [1, 4], inputsMax: 1_200 },
  );
  const transport = profile.protocols.fpaxos!.transport!;

  test('every term is there, finite and non-negative; frames and messages cost something on both sides', () => {
    expect(Object.keys(transport).sort()).toEqual([...TRANSPORT_FIELDS].sort());
    for (const name of TRANSPORT_FIELDS) {
      expect(Number.isFinite(transport[name]), name).toBe(true);
      expect(transport[name], name).toBeGreaterThanOrEqual(0);
    }
    for (const name of ['sendFrameNs', 'recvFrameNs', 'submitRecvFrameNs', 'replySendFrameNs', 'submitSendFrameNs', 'replyRecvFrameNs', 'sendCodecNs', 'recvCodecNs', 'clientCommandNs'] as const) {
      expect(transport[name], name).toBeGreaterThan(0);
    }
    // A frame of 8 messages costs more than a frame of 1 on each side (the points the line is fitted to).
    const detail = profile.protocols.fpaxos!.transportDetail as { msgs: { points: Array<{ batch: number; sendNsPerFrame: number; recvNsPerFrame: number; bytesPerFrame: number }> } };
    const [one, eight] = detail.msgs.points;
    expect([one!.batch, eight!.batch]).toEqual([1, 8]);
    expect(eight!.bytesPerFrame).toBeGreaterThan(4 * one!.bytesPerFrame);
  });

  test('the replica replay ran process 1\'s inputs through a real replica process; its residual is used only if it did the twin\'s work', () => {
    const detail = profile.protocols.fpaxos!.replicaDetail as { points: Array<{ inputs: number; frames: number; measuredNs: number; modelledNs: number }>; executed: number; twinExecuted: number; faithful: boolean };
    expect(detail.points).toHaveLength(2);
    for (const point of detail.points) {
      expect(point.inputs).toBeGreaterThan(400);
      expect(point.measuredNs).toBeGreaterThan(0);
      expect(point.modelledNs).toBeGreaterThan(0);
    }
    // More inputs per turn, fewer frames for the same inputs.
    expect(detail.points[1]!.frames).toBeLessThan(detail.points[0]!.frames);
    expect(detail.twinExecuted).toBeGreaterThan(0);
    expect(detail.faithful).toBe(Math.abs(detail.executed - detail.twinExecuted) <= 0.02 * detail.twinExecuted);
    const replica = profile.protocols.fpaxos!.replica;
    if (detail.faithful) {
      expect(Number.isFinite(replica!.inputNs) && replica!.inputNs >= 0).toBe(true);
      expect(Number.isFinite(replica!.frameNs) && replica!.frameNs >= 0).toBe(true);
    } else expect(replica).toBeUndefined();
  });

  test('the profile records the load and parses back to itself', () => {
    expect(typeof (profile.machine['loadAverage'] as { before: number }).before).toBe('number');
    expect(parseCpuProfile(JSON.stringify(profile), 'calibrated')).toEqual(profile);
  });
});
