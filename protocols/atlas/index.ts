/** Atlas: leaderless, fast quorum ⌊n/2⌋+f, dependency graph executed by SCCs in dot order. */
import { createApplication } from '../../apps/index.js';
import { formatDot, formatRifl } from '../../core/ids.js';
import type { ProtocolDefinition } from '../../core/process.js';
import { GraphExecutor, type GraphInfo } from '../common/graph-executor.js';
import { AtlasProcess } from './atlas.js';
import type { AtlasMessage } from './messages.js';

export const atlas: ProtocolDefinition<AtlasMessage, GraphInfo> = {
  name: 'atlas',
  summary: 'Atlas (EuroSys\'20): leaderless; fast quorum ⌊n/2⌋+f, fast path when every dependency is reported f times, else Flexible Paxos at f+1',
  createProcess: (id, config) => new AtlasProcess(id, config),
  commitOf: (info) => ({
    id: `dot ${formatDot(info.dot)}`,
    value: `${info.cmd === null ? 'no-op' : formatRifl(info.cmd.rifl)} deps=[${info.deps.map(formatDot).join(',')}]`,
  }),
  createExecutor: (id, config) => new GraphExecutor(id, 'dot', createApplication(config)),
  // Recovery (PROTOCOLS.md §7.3) takes over the dots of crashed coordinators; timeouts resend lost commits.
  faultTolerance: { crashStop: true, messageLoss: true, crashRestart: false, reconfiguration: true },
};
