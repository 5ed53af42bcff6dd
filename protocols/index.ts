/** The protocol registry: every protocol a host can run, by name. */
import { PROTOCOL_NAMES, type ProtocolName } from '../core/config.js';
import { UsageError } from '../core/invariant.js';
import type { ProtocolDefinition } from '../core/process.js';
import { atlas } from './atlas/index.js';
import { epaxos } from './epaxos/index.js';
import { fpaxos } from './fpaxos/index.js';
import { tempo } from './tempo/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const REGISTRY: Partial<Record<ProtocolName, ProtocolDefinition<any, any>>> = {
  fpaxos,
  epaxos,
  atlas,
  tempo,
};

/** Names of the protocols implemented so far, in PROTOCOL_NAMES order. */
export function availableProtocols(): ProtocolName[] {
  return PROTOCOL_NAMES.filter((name) => REGISTRY[name] !== undefined);
}

/** The protocol called `name`; anything else is a {@link UsageError} listing the accepted names. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function protocolByName(name: string): ProtocolDefinition<any, any> {
  const found = (REGISTRY as Record<string, ProtocolDefinition | undefined>)[name];
  if (found === undefined) {
    throw new UsageError(`unknown protocol '${name}'; accepted: ${availableProtocols().join(', ')}`);
  }
  return found;
}
