/** Tempo: leaderless SMR through timestamp stability. */
import { createApplication } from '../../apps/index.js';
import { formatDot, formatRifl } from '../../core/ids.js';
import type { ProtocolDefinition } from '../../core/process.js';
import { TableExecutor, tempoShardOf } from './executor.js';
import type { TempoInfo, TempoMessage } from './messages.js';
import { TempoProcess } from './tempo.js';

/** Tempo's definition for the hosts; its executor splits by key into config.executorShards shards. */
export const tempo: ProtocolDefinition<TempoMessage, TempoInfo> = {
  name: 'tempo',
  summary: 'Tempo: leaderless, commands ordered by timestamps that run once stable at a majority (fast quorum ⌊n/2⌋+f)',
  createProcess: (id, config) => new TempoProcess(id, config),
  createExecutor: (id, config, shard) => new TableExecutor(id, config.n, shard, undefined, {}, createApplication(config)),
  shardOf: tempoShardOf,
  // Recovery (PROTOCOLS.md §7.4) takes over the dots of crashed coordinators; timeouts resend lost
  // commits, and processes with commands that do not run ask for the votes they may have lost.
  faultTolerance: { crashStop: true, messageLoss: true, crashRestart: false, reconfiguration: true },
  commitOf: (info) => (info.type === 'Committed' ? { id: `dot ${formatDot(info.dot)} key ${info.key}`, value: `ts=${info.clock} rifl ${formatRifl(info.rifl)}` } : undefined),
};
