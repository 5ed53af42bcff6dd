/** EPaxos: leaderless, simple 2F fast quorum, explicit-prepare recovery, dependency graph executed by SCCs in (seq, dot) order. */
import { createApplication } from '../../apps/index.js';
import { formatDot, formatRifl } from '../../core/ids.js';
import type { ProtocolDefinition } from '../../core/process.js';
import { GraphExecutor, type GraphInfo } from '../common/graph-executor.js';
import { EPaxosProcess } from './epaxos.js';
import type { EPaxosMessage } from './messages.js';

export const epaxos: ProtocolDefinition<EPaxosMessage, GraphInfo> = {
  name: 'epaxos',
  summary: "EPaxos (SOSP'13): leaderless; fast path when all 2F replies agree, else Accept at F+1; explicit-prepare recovery; tolerates F=⌊n/2⌋",
  createProcess: (id, config) => new EPaxosProcess(id, config),
  commitOf: (info) => ({
    id: `dot ${formatDot(info.dot)}`,
    value: `${info.cmd === null ? 'no-op' : formatRifl(info.cmd.rifl)} deps=[${info.deps.map(formatDot).join(',')}] seq=${info.seq}`,
  }),
  createExecutor: (id, config) => new GraphExecutor(id, 'seq-dot', createApplication(config)),
  // Recovery of a silent coordinator's dots, retried with backoff, and commit resends to lagging
  // processes: up to F crash-stops and any healed message loss leave every command decided.
  faultTolerance: { crashStop: true, messageLoss: true, crashRestart: false, reconfiguration: true },
};
