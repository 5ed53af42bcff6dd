/**
 * Deliberately broken protocol variants, reachable only from tests: the checker must catch each.
 * They reuse the real protocol code with a test-only fault injection (or, for an executor, a small
 * replacement), so what breaks is exactly one rule.
 */
import type { ExecutionResult, Executor, ProtocolDefinition } from '../../core/process.js';
import { KVStore } from '../../apps/kv/store.js';
import { fpaxos } from '../../protocols/fpaxos/index.js';
import { FPaxosProcess } from '../../protocols/fpaxos/fpaxos.js';
import type { FPaxosMessage, SlotInfo } from '../../protocols/fpaxos/messages.js';
import { atlas } from '../../protocols/atlas/index.js';
import { AtlasProcess } from '../../protocols/atlas/atlas.js';
import type { AtlasMessage } from '../../protocols/atlas/messages.js';
import type { GraphInfo } from '../../protocols/common/graph-executor.js';
import { tempo } from '../../protocols/tempo/index.js';
import { TableExecutor } from '../../protocols/tempo/executor.js';
import type { TempoInfo, TempoMessage } from '../../protocols/tempo/messages.js';
import { TempoProcess } from '../../protocols/tempo/tempo.js';

export interface BrokenVariant {
  readonly name: string;
  /** What rule it breaks, and why a checker can see it. */
  readonly breaks: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly definition: ProtocolDefinition<any, any>;
}

/** A slot executor that runs every slot as soon as it is chosen, without waiting for the slots below. */
class GapSkippingExecutor implements Executor<SlotInfo> {
  private readonly store = new KVStore();
  private readonly executed = new Set<number>();
  private results: ExecutionResult[] = [];

  handle(info: SlotInfo): void {
    if (info.cmd === null || this.executed.has(info.cmd.rifl)) return;
    this.executed.add(info.cmd.rifl);
    for (const keyOps of info.cmd.keys) this.results.push({ rifl: info.cmd.rifl, key: keyOps.key, results: this.store.apply(keyOps) });
  }

  drain(): readonly ExecutionResult[] {
    const drained = this.results;
    this.results = [];
    return drained;
  }
}

export const BROKEN_VARIANTS: readonly BrokenVariant[] = [
  {
    name: 'fpaxos: a new leader skips phase 1',
    breaks:
      'A process that times out leads at once from what it alone knows: it neither learns nor re-proposes slots the old leader got accepted, ' +
      'so it reuses chosen slots for other commands (commit agreement, order, linearizability).',
    definition: { ...fpaxos, createProcess: (id, config) => new FPaxosProcess(id, config, { skipPhase1: true }) } as ProtocolDefinition<FPaxosMessage, SlotInfo>,
  },
  {
    name: 'fpaxos: phase-2 quorum of f instead of f+1',
    breaks:
      'With phase 1 of n−f, f + (n−f) = n: a phase-1 quorum can miss every acceptor of a chosen slot, so a new leader fills it with a no-op ' +
      'or another command (commit agreement); with f=1 the leader chooses alone, so an isolated leader keeps answering clients (linearizability).',
    definition: {
      ...fpaxos,
      createProcess: (id, config) => new FPaxosProcess(id, config, { writeQuorumSize: config.f }),
    } as ProtocolDefinition<FPaxosMessage, SlotInfo>,
  },
  {
    name: 'fpaxos: the executor skips missing slots',
    breaks:
      'The slot executor runs a slot as soon as its MChosen arrives instead of waiting for every slot below it; reordered or lost MChosen ' +
      'messages make processes execute conflicting commands in different orders (execution order agreement).',
    definition: { ...fpaxos, createExecutor: () => new GapSkippingExecutor() } as ProtocolDefinition<FPaxosMessage, SlotInfo>,
  },
  {
    name: 'tempo: stability threshold ⌊n/2⌋ instead of ⌊n/2⌋+1',
    breaks:
      'A timestamp is declared stable once a minority voted up to it; a minority need not intersect the fast quorum that bounds a later ' +
      "command's timestamp, so a command can commit below a timestamp already executed (execution order, linearizability).",
    definition: {
      ...tempo,
      createExecutor: (id, config, shard) => new TableExecutor(id, config.n, shard, undefined, { stabilityThreshold: Math.floor(config.n / 2) }),
    } as ProtocolDefinition<TempoMessage, TempoInfo>,
  },
  {
    name: 'tempo: fast quorum one too small',
    breaks:
      'Timestamps are computed from ⌊n/2⌋+f−1 proposals; with n=3, f=1 that is the coordinator alone, so a command can get a timestamp ' +
      'below one a majority already voted past and executed (execution order, linearizability).',
    definition: {
      ...tempo,
      createProcess: (id, config) => new TempoProcess(id, config, { fastQuorumSize: Math.floor(config.n / 2) + config.f - 1 }),
    } as ProtocolDefinition<TempoMessage, TempoInfo>,
  },
  {
    name: 'atlas: the slow path proposes the coordinator\'s dependencies only',
    breaks:
      'Dropping the union of the fast quorum\'s reports on the slow path loses dependencies only other members saw, so two conflicting ' +
      'commands can each miss the other and run in different orders at different processes (execution order, linearizability).',
    definition: {
      ...atlas,
      createProcess: (id, config) => new AtlasProcess(id, config, { slowPathWithoutUnion: true }),
    } as ProtocolDefinition<AtlasMessage, GraphInfo>,
  },
  {
    name: 'atlas: fast quorum one too small',
    breaks:
      'Dependencies are collected from ⌊n/2⌋+f−1 processes; with n=3, f=1 that is the coordinator alone, so two concurrent conflicting ' +
      'commands need not see each other and run in different orders (execution order, linearizability).',
    definition: {
      ...atlas,
      createProcess: (id, config) => new AtlasProcess(id, config, { fastQuorumSize: Math.floor(config.n / 2) + config.f - 1 }),
    } as ProtocolDefinition<AtlasMessage, GraphInfo>,
  },
];

/**
 * Variants the checker catches only beyond the default budget of 200 schedules: each needs f ≥ 2, a
 * fast-path decision on fewer reports than f, and the coordinator to crash before its commit spreads,
 * then a recovery that misses the reporters. `orrery check`-style runs of seed 7 (no shrinking) catch
 * the Atlas one at run 76 and the Tempo one at run 1067 (test/broken-variants.test.ts checks both
 * with that budget only when ORRERY_SOAK is set, and the hand-driven recovery tests show the rule
 * they break).
 */
export const SOAK_ONLY_VARIANTS: readonly BrokenVariant[] = [
  {
    name: 'tempo: fast-path threshold f−1 instead of f',
    breaks:
      'The coordinator commits the highest proposal on the fast path when only f−1 members made it; a recovery after the coordinator ' +
      'crashes may then miss every one of them and commit a lower timestamp than processes that learnt the fast path (commit agreement, order).',
    definition: {
      ...tempo,
      createProcess: (id, config) => new TempoProcess(id, config, { fastPathThreshold: config.f - 1 }),
    } as ProtocolDefinition<TempoMessage, TempoInfo>,
  },
  {
    name: 'atlas: fast-path threshold f−1 instead of f',
    breaks:
      'The coordinator commits on the fast path a dependency only f−1 members reported; a recovery after the coordinator crashes may miss ' +
      'all of them and commit other dependencies than processes that learnt the fast path (commit agreement, order).',
    definition: {
      ...atlas,
      createProcess: (id, config) => new AtlasProcess(id, config, { fastPathThreshold: config.f - 1 }),
    } as ProtocolDefinition<AtlasMessage, GraphInfo>,
  },
];

