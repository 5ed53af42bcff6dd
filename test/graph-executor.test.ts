import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { makeCommand, type Command } from '../core/command.js';
import { makeDot, makeRifl, type Dot } from '../core/ids.js';
import { GraphExecutor, type GraphInfo, type SccOrder } from '../protocols/common/graph-executor.js';

/** One vertex of a generated graph, before it becomes a GraphInfo. */
interface Node {
  readonly dot: Dot;
  readonly seq: number;
  readonly key: string;
  readonly write: boolean;
}

interface Graph {
  readonly nodes: readonly Node[];
  /** deps[i] = indices i depends on */
  readonly deps: readonly (readonly number[])[];
}

function conflict(a: Node, b: Node): boolean {
  return a.key === b.key && (a.write || b.write);
}

/**
 * A random committed graph that satisfies the EPaxos/Atlas dependency invariant: of two conflicting
 * commands at least one depends on the other (direction, or both, chosen at random). A few extra edges
 * between non-conflicting commands make the graphs messier than Option F ever would.
 */
const graphArbitrary: fc.Arbitrary<Graph> = fc
  .array(fc.record({ source: fc.integer({ min: 1, max: 3 }), seq: fc.integer({ min: 0, max: 4 }), key: fc.constantFrom('a', 'b', 'c'), write: fc.boolean() }), {
    minLength: 1,
    maxLength: 24,
  })
  .chain((raw) => {
    const counters = [0, 0, 0, 0];
    const nodes: Node[] = raw.map((r) => ({ dot: makeDot(r.source, ++counters[r.source]!), seq: r.seq, key: r.key, write: r.write }));
    const pairs = nodes.length * (nodes.length - 1) / 2;
    return fc.tuple(fc.constant(nodes), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: pairs, maxLength: pairs }));
  })
  .map(([nodes, choices]) => {
    const deps: number[][] = nodes.map(() => []);
    let k = 0;
    for (let i = 0; i < nodes.length; i++) {
      for (let j = i + 1; j < nodes.length; j++) {
        const choice = choices[k++]!;
        if (conflict(nodes[i]!, nodes[j]!)) {
          if (choice <= 3 || choice >= 8) deps[j]!.push(i);
          if (choice >= 4) deps[i]!.push(j);
        } else if (choice === 9) {
          deps[i]!.push(j);
        } else if (choice === 8) {
          deps[j]!.push(i);
        }
      }
    }
    return { nodes, deps };
  });

function infosOf(graph: Graph): GraphInfo[] {
  return graph.nodes.map((node, i) => ({
    dot: node.dot,
    cmd: command(i + 1, node.key, node.write),
    deps: graph.deps[i]!.map((d) => graph.nodes[d]!.dot).sort((a, b) => a - b),
    seq: node.seq,
  }));
}

function command(id: number, key: string, write: boolean): Command {
  return makeCommand(makeRifl(id, 1), [{ key, ops: [write ? { op: 'put', value: `v${id}` } : { op: 'get' }] }]);
}

/** Delivers `infos` in `order` and returns the executed dots in execution order. */
function execute(infos: readonly GraphInfo[], order: readonly number[], scc: SccOrder): Dot[] {
  const executor = new GraphExecutor(1, scc);
  const executed: Dot[] = [];
  executor.drainExecuted();
  for (const i of order) {
    executor.handle(infos[i]!, 0);
    executed.push(...executor.drainExecuted());
  }
  return executed;
}

/** Reference: reach[i][j] = i reaches j through deps (naive transitive closure). */
function closure(graph: Graph): boolean[][] {
  const size = graph.nodes.length;
  const reach = graph.nodes.map((_, i) => graph.nodes.map((__, j) => graph.deps[i]!.includes(j)));
  for (let k = 0; k < size; k++) {
    for (let i = 0; i < size; i++) {
      if (!reach[i]![k]) continue;
      for (let j = 0; j < size; j++) if (reach[k]![j]) reach[i]![j] = true;
    }
  }
  return reach;
}

function inOrder(scc: SccOrder, a: Node, b: Node): boolean {
  return scc === 'seq-dot' ? a.seq < b.seq || (a.seq === b.seq && a.dot < b.dot) : a.dot < b.dot;
}

const permutation = (size: number) =>
  fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: size, maxLength: size }).map((weights) =>
    weights.map((w, i) => [w, i] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]).map(([, i]) => i),
  );

const withOrders = graphArbitrary.chain((graph) => fc.tuple(fc.constant(graph), fc.array(permutation(graph.nodes.length), { minLength: 3, maxLength: 3 }), fc.constantFrom<SccOrder>('seq-dot', 'dot')));

describe('graph executor, against a naive transitive-closure reference', () => {
  test('every order of delivery executes every command, conflicting pairs in the reference order', () => {
    fc.assert(
      fc.property(withOrders, ([graph, orders, scc]) => {
        const infos = infosOf(graph);
        const reach = closure(graph);
        const index = new Map(graph.nodes.map((node, i) => [node.dot, i]));
        for (const order of orders) {
          const executed = execute(infos, order, scc);
          expect(executed.length).toBe(graph.nodes.length);
          const position = new Map(executed.map((dot, p) => [index.get(dot)!, p]));
          for (let i = 0; i < graph.nodes.length; i++) {
            for (let j = 0; j < graph.nodes.length; j++) {
              if (i === j) continue;
              const sameScc = reach[i]![j]! && reach[j]![i]!;
              // A dependency outside the command's own SCC runs first.
              if (graph.deps[i]!.includes(j) && !sameScc) expect(position.get(j)!).toBeLessThan(position.get(i)!);
              // Inside an SCC the order is (seq, dot) or dot.
              if (sameScc && inOrder(scc, graph.nodes[i]!, graph.nodes[j]!)) expect(position.get(i)!).toBeLessThan(position.get(j)!);
              // A conflicting pair is ordered by reachability (the invariant makes one reach the other).
              if (conflict(graph.nodes[i]!, graph.nodes[j]!) && reach[i]![j] && !reach[j]![i]) {
                expect(position.get(j)!).toBeLessThan(position.get(i)!);
              }
            }
          }
        }
      }),
      { numRuns: 300, seed: 0x6a7e },
    );
  });

  test('an SCC runs as one contiguous block', () => {
    fc.assert(
      fc.property(withOrders, ([graph, orders, scc]) => {
        const infos = infosOf(graph);
        const reach = closure(graph);
        const index = new Map(graph.nodes.map((node, i) => [node.dot, i]));
        for (const order of orders) {
          const executed = execute(infos, order, scc).map((dot) => index.get(dot)!);
          for (let p = 0; p < executed.length; p++) {
            for (let q = p + 2; q < executed.length; q++) {
              const a = executed[p]!;
              const b = executed[q]!;
              if (!(reach[a]![b] && reach[b]![a])) continue;
              for (let m = p + 1; m < q; m++) {
                const c = executed[m]!;
                expect(reach[a]![c] && reach[c]![a]).toBe(true);
              }
            }
          }
        }
      }),
      { numRuns: 200, seed: 0x5cc },
    );
  });

  test('executors fed in different orders agree on the order of conflicting commands, key by key', () => {
    fc.assert(
      fc.property(withOrders, ([graph, orders, scc]) => {
        const infos = infosOf(graph);
        const perKey = (executed: Dot[]) => {
          const byIndex = new Map(graph.nodes.map((node, i) => [node.dot, i]));
          const sequence: string[] = [];
          // The order of conflicting commands: every write, and each read relative to the writes.
          for (const key of ['a', 'b', 'c']) {
            let writes = 0;
            for (const dot of executed) {
              const node = graph.nodes[byIndex.get(dot)!]!;
              if (node.key !== key) continue;
              if (node.write) {
                writes++;
                sequence.push(`${key}:w:${dot}`);
              } else sequence.push(`${key}:r:${dot}@${writes}`);
            }
          }
          return sequence.sort();
        };
        const first = perKey(execute(infos, orders[0]!, scc));
        for (const order of orders.slice(1)) expect(perKey(execute(infos, order, scc))).toEqual(first);
      }),
      { numRuns: 300, seed: 0xa9 },
    );
  });
});

describe('graph executor, hand-built cases', () => {
  const put = (id: number) => command(id, 'k', true);

  test('waits for a missing dependency, then runs both', () => {
    const executor = new GraphExecutor(1, 'dot');
    const a = makeDot(1, 1);
    const b = makeDot(2, 1);
    executor.handle({ dot: b, cmd: put(2), deps: [a], seq: 0 }, 0);
    expect(executor.drain()).toEqual([]);
    expect(executor.waiting).toBe(1);
    executor.handle({ dot: a, cmd: put(1), deps: [], seq: 0 }, 0);
    expect(executor.drain().map((r) => r.rifl)).toEqual([makeRifl(1, 1), makeRifl(2, 1)]);
    expect(executor.waiting).toBe(0);
    expect(executor.pendingCount).toBe(0);
  });

  test('a cycle runs in (seq, dot) order for EPaxos and dot order for Atlas', () => {
    const a = makeDot(1, 1);
    const b = makeDot(2, 1);
    for (const [order, expected] of [
      ['seq-dot', [2, 1]],
      ['dot', [1, 2]],
    ] as const) {
      const executor = new GraphExecutor(1, order);
      executor.handle({ dot: a, cmd: put(1), deps: [b], seq: 2 }, 0);
      executor.handle({ dot: b, cmd: put(2), deps: [a], seq: 1 }, 0);
      expect(executor.drain().map((r) => r.rifl)).toEqual(expected.map((c) => makeRifl(c, 1)));
    }
  });

  test('a rifl committed under two dots runs once; a no-op runs nothing', () => {
    const executor = new GraphExecutor(1, 'dot');
    executor.handle({ dot: makeDot(1, 1), cmd: put(7), deps: [], seq: 0 }, 0);
    executor.handle({ dot: makeDot(2, 1), cmd: put(7), deps: [makeDot(1, 1)], seq: 0 }, 0);
    executor.handle({ dot: makeDot(3, 1), cmd: null, deps: [], seq: 0 }, 0);
    expect(executor.drain()).toEqual([{ rifl: makeRifl(7, 1), key: 'k', results: [null] }]);
    expect(executor.executedTotal).toBe(3);
    expect(executor.isExecuted(makeDot(2, 1))).toBe(true);
  });

  test('a duplicate commit is ignored', () => {
    const executor = new GraphExecutor(1, 'dot');
    const info = { dot: makeDot(1, 1), cmd: put(1), deps: [], seq: 0 };
    executor.handle(info, 0);
    executor.handle(info, 0);
    expect(executor.drain()).toHaveLength(1);
  });
});

describe('graph executor, long chains', () => {
  const CHAIN = 200_000;
  const put = makeCommand(makeRifl(1, 1), [{ key: 'k', ops: [{ op: 'put', value: 'x' }] }]);
  const cmdOf = (i: number) => ({ ...put, rifl: makeRifl(1 + (i >>> 16), (i & 0xffff) + 1) });

  test(`a cycle of ${CHAIN} commands is one SCC found without overflowing the stack`, () => {
    const executor = new GraphExecutor(1, 'dot');
    // c_i depends on c_{i-1}; c_1 depends on c_N, so the last commit closes one huge cycle.
    for (let i = 1; i <= CHAIN; i++) {
      executor.handle({ dot: makeDot(1, i), cmd: cmdOf(i), deps: [makeDot(1, i === 1 ? CHAIN : i - 1)], seq: 0 }, 0);
    }
    expect(executor.executedTotal).toBe(CHAIN);
    const results = executor.drain();
    expect(results).toHaveLength(CHAIN);
    expect(results[0]!.rifl).toBe(cmdOf(1).rifl);
    expect(results[CHAIN - 1]!.rifl).toBe(cmdOf(CHAIN).rifl);
  });

  test(`a chain of ${CHAIN} committed in order behind one missing command runs once it arrives`, () => {
    const executor = new GraphExecutor(1, 'dot');
    for (let i = 2; i <= CHAIN; i++) executor.handle({ dot: makeDot(1, i), cmd: cmdOf(i), deps: [makeDot(1, i - 1)], seq: 0 }, 0);
    expect(executor.executedTotal).toBe(0);
    executor.handle({ dot: makeDot(1, 1), cmd: cmdOf(1), deps: [], seq: 0 }, 0);
    expect(executor.executedTotal).toBe(CHAIN);
    expect(executor.waiting).toBe(0);
    expect(executor.pendingCount).toBe(0);
  });
});

describe('search work (workDone, charged by the CPU model)', () => {
  // A dense cluster on one key: command i depends on every earlier one, as Option-F deps are.
  const cluster = (size: number): GraphInfo[] =>
    Array.from({ length: size }, (_, i) => ({
      dot: makeDot(1, i + 1),
      cmd: makeCommand(makeRifl(1, i + 1), [{ key: 'k', ops: [{ op: 'put', value: `${i}` }] }]),
      deps: Array.from({ length: i }, (_, j) => makeDot(1, j + 1)),
      seq: 0,
    }));
  const work = (infos: readonly GraphInfo[]): number => {
    const executor = new GraphExecutor(1, 'dot');
    for (const info of infos) executor.handle(info, 0);
    expect(executor.executedTotal).toBe(infos.length);
    return executor.workDone();
  };

  test('every dependency is examined at least on arrival; the same inputs count the same work', () => {
    const infos = cluster(40).reverse();
    const deps = infos.reduce((sum, info) => sum + info.deps.length, 0);
    expect(work(infos)).toBeGreaterThanOrEqual(deps);
    expect(work(infos)).toBe(work(infos));
  });

  test('in commit order nothing waits: the work is the arrival scan alone; out of order, searches add to it', () => {
    const inOrder = cluster(40);
    const deps = inOrder.reduce((sum, info) => sum + info.deps.length, 0);
    expect(work(inOrder)).toBe(deps);
    // The newest first: each later arrival finds the cluster waiting and walks it.
    expect(work([...inOrder].reverse())).toBeGreaterThan(2 * deps);
  });
});
