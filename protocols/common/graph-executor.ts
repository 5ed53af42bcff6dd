/**
 * The dependency-graph executor of EPaxos and Atlas (PROTOCOLS.md §4.4).
 *
 * Committed commands arrive as vertices with their committed dependencies. A vertex runs once every
 * command it reaches is committed here: Tarjan's algorithm, started from the new vertex, finds the
 * strongly connected components of the committed subgraph it reaches and emits them in reverse
 * topological order (dependencies first), which is the execution order. Inside one component the
 * order is `(seq, dot)` for EPaxos and `dot` for Atlas, so every process runs the same sequence.
 *
 * - The search is iterative: dependency chains of hundreds of thousands of commands must not grow
 *   the JavaScript call stack.
 * - A search that reaches a dependency not committed here stops; the root waits in `pendingOn` for
 *   that dependency to execute and is searched again then. Every vertex visited by the failed search
 *   remembers the missing dependency (`blockedOn`), so a later search that reaches it gives up at once
 *   instead of walking the same waiting subgraph again (without this a chain committed in order
 *   behind one missing command costs quadratic time).
 * - Executed dots are kept as a per-source frontier plus exceptions, so memory stays flat however
 *   long the run; executed vertices are forgotten.
 * - A rifl committed under two dots (a client retry at another process) runs once: the second is
 *   skipped.
 */
import { KVStore } from '../../apps/kv/store.js';
import type { StateMachine } from '../../core/state-machine.js';
import type { Command } from '../../core/command.js';
import { FrontierMap, FrontierSet } from '../../core/frontier.js';
import { dotSeq, dotSource, riflClient, riflSeq, type Dot, type ProcessId } from '../../core/ids.js';
import { invariant } from '../../core/invariant.js';
import { MAX_PROCESSES } from '../../core/config.js';
import type { ExecutionResult, Executor, Time } from '../../core/process.js';

/** A committed command, as a process hands it to its graph executor. */
export interface GraphInfo {
  readonly dot: Dot;
  /** The command, or null for a no-op (a dot recovery could not save). */
  readonly cmd: Command | null;
  /** Committed dependencies, sorted ascending, without `dot` itself. */
  readonly deps: readonly Dot[];
  /** EPaxos's sequence number; 0 for Atlas, which orders an SCC by dot alone. */
  readonly seq: number;
}

/** How commands inside one strongly connected component are ordered. */
export type SccOrder = 'seq-dot' | 'dot';

/** Most committed, not yet executed commands one executor holds. */
export const GRAPH_VERTICES_MAX = 16 * 1024 * 1024;

const NOT_BLOCKED = -1;

interface Vertex {
  readonly info: GraphInfo;
  /**
   * The dependencies not known to have executed, in `info.deps` order: dropped as they execute, each
   * at most once, so a vertex that many searches reach does not rescan a long list of executed ones.
   */
  readonly deps: Dot[];
  /** Tarjan's discovery index in the current search; 0 when not visited by it. */
  index: number;
  low: number;
  onStack: boolean;
  /** Next dependency to look at while this vertex is on the search path. */
  nextDep: number;
  /** A dependency found missing by an earlier search that reached this vertex, or NOT_BLOCKED. */
  blockedOn: Dot;
}

/** The executor of one EPaxos or Atlas process: committed commands in, per-key results out in SCC order. */
export class GraphExecutor implements Executor<GraphInfo> {
  private readonly vertices = new Map<Dot, Vertex>();
  /** Executed dots, one frontier set per source process (index = source id). */
  private readonly executed: FrontierSet[] = [];
  private readonly executedRifls = new FrontierMap();
  /** missing (or committed but not executed) dependency → roots to search again once it executes */
  private readonly pendingOn = new Map<Dot, Set<Dot>>();
  private results: ExecutionResult[] = [];
  private executedDots: Dot[] = [];
  /** Executed dots are recorded for {@link drainExecuted} only once a host has asked for them. */
  private reportExecuted = false;
  private executedCount = 0;
  /** Dependency entries examined so far (see {@link workDone}). */
  private work = 0;
  // Search state, reused across searches.
  private readonly tarjanStack: Vertex[] = [];
  private readonly path: Vertex[] = [];
  private readonly scc: Vertex[] = [];
  /** The vertices a blockedOn chain went through, reused by stillBlockedOn. */
  private readonly chain: Vertex[] = [];
  /** Roots whose dependencies executed and that should be searched again. */
  private readonly retry: Dot[] = [];
  private readonly compare: (a: Vertex, b: Vertex) => number;

  /** `app` is the application commands run against (config.app through apps/index.ts; the store by default). */
  constructor(
    readonly process: ProcessId,
    order: SccOrder,
    readonly app: StateMachine = new KVStore(),
  ) {
    this.compare = order === 'seq-dot' ? compareSeqDot : compareDot;
  }

  /** Committed commands waiting for a dependency. */
  get waiting(): number {
    return this.vertices.size;
  }

  /** Commands executed (or skipped as duplicates / no-ops) so far. */
  get executedTotal(): number {
    return this.executedCount;
  }

  /** Missing dependencies some root waits for (for memory checks). */
  get pendingCount(): number {
    return this.pendingOn.size;
  }

  /**
   * Units of search work done so far: dependency entries examined on arrival, while compacting, by
   * the search itself and along blockedOn chains. Deterministic, for the CPU model (Executor.workDone).
   */
  workDone(): number {
    return this.work;
  }

  /** True once `dot` has executed here. */
  isExecuted(dot: Dot): boolean {
    const executed = this.executed[dotSource(dot)];
    return executed !== undefined && executed.has(dotSeq(dot));
  }

  handle(info: GraphInfo, _now: Time): void {
    if (this.isExecuted(info.dot) || this.vertices.has(info.dot)) return; // a duplicate commit
    const pending = this.pendingDeps(info);
    if (pending === undefined) {
      // The common case: nothing to wait for, a component of one; no vertex, no search.
      this.run(info);
    } else {
      invariant(this.vertices.size < GRAPH_VERTICES_MAX, () => `graph executor holds more than GRAPH_VERTICES_MAX=${GRAPH_VERTICES_MAX} commands`);
      this.vertices.set(info.dot, { info, deps: pending, index: 0, low: 0, onStack: false, nextDep: 0, blockedOn: NOT_BLOCKED });
      this.retry.push(info.dot);
    }
    while (this.retry.length > 0) {
      const dot = this.retry.pop()!;
      const vertex = this.vertices.get(dot);
      if (vertex !== undefined) this.find(vertex);
    }
  }

  drain(): readonly ExecutionResult[] {
    const drained = this.results;
    if (drained.length > 0) this.results = [];
    return drained;
  }

  /**
   * Dots executed since the last call, in execution order: the feedback a process needs to garbage
   * collect (PROTOCOLS.md §7.7). Recording starts with the first call, so a host that never asks keeps
   * no list.
   */
  drainExecuted(): readonly Dot[] {
    this.reportExecuted = true;
    const drained = this.executedDots;
    if (drained.length > 0) this.executedDots = [];
    return drained;
  }

  /** The dependencies of `info` that have not executed here, or undefined when there are none. */
  private pendingDeps(info: GraphInfo): Dot[] | undefined {
    const deps = info.deps;
    this.work += deps.length;
    let pending: Dot[] | undefined;
    for (let i = 0; i < deps.length; i++) {
      const dep = deps[i]!;
      if (dep !== info.dot && !this.isExecuted(dep)) (pending ??= []).push(dep);
    }
    return pending;
  }

  /**
   * Drops the dependencies of `vertex` that have executed since it last looked, keeping the order,
   * and returns one the vertex is known to wait for: a dependency not committed here, or one a
   * dependency is still blocked on (NOT_BLOCKED when there is none). Looking at every dependency
   * before descending lets a search stop at a vertex's missing dependency before it walks the
   * committed subgraph behind its other ones.
   */
  private compact(vertex: Vertex): Dot {
    const deps = vertex.deps;
    const length = deps.length;
    let kept = 0;
    for (let i = 0; i < length; i++) {
      const dep = deps[i]!;
      // A dot is a vertex (committed here, not executed) or not: executed, or missing.
      const next = this.vertices.get(dep);
      if (next === undefined && this.isExecuted(dep)) continue;
      deps[kept++] = dep;
      let missing = NOT_BLOCKED;
      if (next === undefined) missing = dep;
      else if (next.index === 0 && next.blockedOn !== NOT_BLOCKED) missing = this.stillBlockedOn(next);
      if (missing !== NOT_BLOCKED) {
        this.work += i + 1;
        // Stop looking: the rest moves down unexamined, to be compacted on a later visit.
        if (kept <= i) deps.copyWithin(kept, i + 1);
        deps.length = length - (i + 1 - kept);
        return missing;
      }
    }
    this.work += length;
    deps.length = kept;
    return NOT_BLOCKED;
  }

  /** Tarjan's search from `root`; executes every component it completes. */
  private find(root: Vertex): void {
    const path = this.path;
    const stack = this.tarjanStack;
    let nextIndex = 1;
    root.index = root.low = nextIndex++;
    root.nextDep = 0;
    root.onStack = true;
    stack.push(root);
    path.push(root);
    // A root searched again (its wait is over) may still reach something missing through the dot it
    // waited for: then there is nothing to walk.
    const rootMissing = root.blockedOn === NOT_BLOCKED ? this.compact(root) : this.stillBlockedOrCompact(root);
    if (rootMissing !== NOT_BLOCKED) return this.abort(root, rootMissing);
    while (path.length > 0) {
      const vertex = path[path.length - 1]!;
      const deps = vertex.deps;
      if (vertex.nextDep < deps.length) {
        const dep = deps[vertex.nextDep++]!;
        this.work++;
        const next = this.vertices.get(dep);
        if (next === undefined) {
          // Executed during this search (an earlier component of it): skip, compacted on a later visit.
          if (this.isExecuted(dep)) continue;
          return this.abort(root, dep);
        }
        if (next.index === 0) {
          if (next.blockedOn !== NOT_BLOCKED) {
            const missing = this.stillBlockedOn(next);
            if (missing !== NOT_BLOCKED) return this.abort(root, missing);
          }
          next.index = next.low = nextIndex++;
          next.nextDep = 0;
          next.onStack = true;
          stack.push(next);
          path.push(next);
          const nextMissing = this.compact(next);
          if (nextMissing !== NOT_BLOCKED) return this.abort(root, nextMissing);
        } else if (next.onStack && next.index < vertex.low) {
          vertex.low = next.index;
        }
        continue;
      }
      path.pop();
      const parent = path[path.length - 1];
      if (vertex.low === vertex.index) this.popComponent(vertex);
      else if (parent !== undefined && vertex.low < parent.low) parent.low = vertex.low;
    }
    invariant(stack.length === 0, 'graph executor: Tarjan stack not empty after a complete search');
  }

  /**
   * The missing dot `vertex` still waits for, or NOT_BLOCKED when a search has to look again. Its
   * `blockedOn` was missing when recorded; if that dot has since been committed and its own search
   * stopped at another missing dot, `vertex` reaches that one through it, and so on. Each link was
   * recorded after its vertex was committed and before its target was, so following them never loops.
   * The vertex and every one on the way keep the last target found, so the next search takes one step.
   */
  private stillBlockedOn(vertex: Vertex): Dot {
    const chain = this.chain;
    let missing = vertex.blockedOn;
    for (;;) {
      this.work++;
      const through = this.vertices.get(missing);
      if (through === undefined) break;
      if (through.blockedOn === NOT_BLOCKED) {
        chain.length = 0;
        return NOT_BLOCKED;
      }
      chain.push(through);
      missing = through.blockedOn;
    }
    if (this.isExecuted(missing)) {
      chain.length = 0;
      return NOT_BLOCKED;
    }
    // Path compression: every vertex on the way waits for the same missing dot.
    vertex.blockedOn = missing;
    for (let i = 0; i < chain.length; i++) chain[i]!.blockedOn = missing;
    chain.length = 0;
    return missing;
  }

  private stillBlockedOrCompact(vertex: Vertex): Dot {
    const missing = this.stillBlockedOn(vertex);
    return missing !== NOT_BLOCKED ? missing : this.compact(vertex);
  }

  /** The search reached `missing`: everything still on the stack waits for it, and so does the root. */
  private abort(root: Vertex, missing: Dot): void {
    for (const vertex of this.tarjanStack) {
      vertex.index = 0;
      vertex.onStack = false;
      vertex.blockedOn = missing;
    }
    this.tarjanStack.length = 0;
    this.path.length = 0;
    let roots = this.pendingOn.get(missing);
    if (roots === undefined) {
      roots = new Set();
      this.pendingOn.set(missing, roots);
    }
    roots.add(root.info.dot);
  }

  /** Pops the component rooted at `head` off the Tarjan stack and executes it. */
  private popComponent(head: Vertex): void {
    const stack = this.tarjanStack;
    if (stack[stack.length - 1] === head) {
      stack.pop();
      head.onStack = false;
      this.run(head.info);
      return;
    }
    const scc = this.scc;
    for (;;) {
      const vertex = stack.pop()!;
      vertex.onStack = false;
      scc.push(vertex);
      if (vertex === head) break;
    }
    if (scc.length > 1) scc.sort(this.compare);
    for (const vertex of scc) this.run(vertex.info);
    scc.length = 0;
  }

  private run(info: GraphInfo): void {
    const dot = info.dot;
    this.vertices.delete(dot);
    const source = dotSource(dot);
    let executed = this.executed[source];
    if (executed === undefined) {
      invariant(source >= 1 && source <= MAX_PROCESSES, () => `graph executor: dot from process ${source}`);
      executed = this.executed[source] = new FrontierSet();
    }
    executed.add(dotSeq(dot));
    if (this.reportExecuted) this.executedDots.push(dot);
    this.executedCount++;
    const waiting = this.pendingOn.get(dot);
    if (waiting !== undefined) {
      this.pendingOn.delete(dot);
      for (const root of waiting) this.retry.push(root);
    }
    const cmd = info.cmd;
    if (cmd === null) return;
    if (!this.executedRifls.add(riflClient(cmd.rifl), riflSeq(cmd.rifl))) return; // committed twice after a retry
    for (const keyOps of cmd.keys) {
      this.results.push({ rifl: cmd.rifl, key: keyOps.key, results: this.app.apply(keyOps) });
    }
  }
}

function compareDot(a: Vertex, b: Vertex): number {
  return a.info.dot - b.info.dot;
}

function compareSeqDot(a: Vertex, b: Vertex): number {
  return a.info.seq - b.info.seq || a.info.dot - b.info.dot;
}
