/**
 * Deliberately broken EPaxos variants, reachable only from tests (kept apart from broken-variants.ts
 * so that each protocol's list can change on its own): the checker must catch each.
 */
import type { ProtocolDefinition } from '../../core/process.js';
import { GraphExecutor, type GraphInfo } from '../../protocols/common/graph-executor.js';
import { epaxos } from '../../protocols/epaxos/index.js';
import { EPaxosProcess } from '../../protocols/epaxos/epaxos.js';
import type { EPaxosMessage } from '../../protocols/epaxos/messages.js';
import { epaxosFastQuorumSize } from '../../core/quorum.js';
import type { BrokenVariant } from './broken-variants.js';

/**
 * The real graph executor, handed every commit minus its highest dependency (the most recent
 * conflicting command, the one most likely to be concurrent): an executor that skips a dependency.
 */
class DependencySkippingExecutor extends GraphExecutor {
  override handle(info: GraphInfo, now: number): void {
    super.handle(info.deps.length === 0 ? info : { ...info, deps: info.deps.slice(0, -1) }, now);
  }
}

export const BROKEN_EPAXOS_VARIANTS: readonly BrokenVariant[] = [
  {
    name: 'epaxos: fast quorum one too small (2F−1)',
    breaks:
      'With n=3 the coordinator commits on its own dependencies alone, so two concurrent conflicting commands commit without either ' +
      'depending on the other and run in different orders (execution order, linearizability); with larger n, recovery rule 3 ' +
      'counts on F fast-quorum members among any F+1 processes and can miss a fast-path decision (commit agreement).',
    definition: {
      ...epaxos,
      createProcess: (id, config) => new EPaxosProcess(id, config, { fastQuorumSize: epaxosFastQuorumSize(config.n) - 1 }),
    } as ProtocolDefinition<EPaxosMessage, GraphInfo>,
  },
  {
    name: 'epaxos: the executor skips a dependency',
    breaks:
      'Each commit reaches the graph executor without its highest dependency; two conflicting commands ordered by that edge alone ' +
      'run in whichever order their commits arrive at each process (execution order, linearizability).',
    definition: { ...epaxos, createExecutor: (id) => new DependencySkippingExecutor(id, 'seq-dot') } as ProtocolDefinition<EPaxosMessage, GraphInfo>,
  },
];
