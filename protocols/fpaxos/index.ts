/** Flexible Multi-Paxos: the leader-based baseline. */
import { createApplication } from '../../apps/index.js';
import { formatRifl } from '../../core/ids.js';
import type { ProtocolDefinition } from '../../core/process.js';
import { SlotExecutor } from './executor.js';
import { FPaxosProcess } from './fpaxos.js';
import type { FPaxosMessage, SlotInfo } from './messages.js';

export const fpaxos: ProtocolDefinition<FPaxosMessage, SlotInfo> = {
  name: 'fpaxos',
  summary: 'Flexible Multi-Paxos: one leader, phase-2 quorum of its f+1 closest processes, leader change by phase 1 with n−f promises',
  createProcess: (id, config) => new FPaxosProcess(id, config),
  createExecutor: (id, config) => new SlotExecutor(id, createApplication(config)),
  faultTolerance: { crashStop: true, messageLoss: true, crashRestart: false, reconfiguration: true },
  commitOf: (info) => ({ id: `slot ${info.slot}`, value: info.cmd === null ? 'no-op' : formatRifl(info.cmd.rifl) }),
};
