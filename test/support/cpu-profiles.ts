/** Test support: hand-written CPU profiles whose figures make the expected capacity easy to compute. */
import type { ProtocolName } from '../../core/config.js';
import { TRANSPORT_FIELDS, type CpuProfile, type ProtocolCosts, type TransportCosts } from '../../sim/cpu.js';

/** Every input costs `handleNs`, codec and execution nothing, unless overridden. */
export function toyCosts(handleNs: number, overrides: Partial<ProtocolCosts> = {}): ProtocolCosts {
  // Unlisted kinds fall back to the mean of the listed ones, so one entry fixes them all.
  return { handleNs: { submit: handleNs }, decodeNs: {}, encodeNs: {}, wireBytes: {}, executeNs: {}, executedNs: 0, ...overrides };
}

/** A profile with the same toy costs for `protocols`. */
export function toyProfile(protocols: readonly ProtocolName[], costs: ProtocolCosts, perByteNs = 0): CpuProfile {
  return {
    format: 'orrery-cpu-profile',
    version: 1,
    machine: { cpu: 'toy' },
    commit: 'test',
    date: 'test',
    command: 'test',
    encodePerByteNs: perByteNs,
    decodePerByteNs: perByteNs,
    protocols: Object.fromEntries(protocols.map((p) => [p, costs])),
  };
}

/** Transport costs that are all zero but for `overrides`. */
export function toyTransport(overrides: Partial<TransportCosts> = {}): TransportCosts {
  const zero = Object.fromEntries(TRANSPORT_FIELDS.map((name) => [name, 0])) as unknown as TransportCosts;
  return { ...zero, ...overrides };
}
