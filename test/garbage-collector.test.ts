/**
 * The garbage collector of EPaxos and Atlas (protocols/common/garbage-collector.ts), alone: a dot is
 * committed-stable once every member reported it committed, executed-stable once every member
 * reported it executed; reports join component-wise (a reordered older report never moves a frontier
 * back); a configuration without a crashed process releases what that process was holding back.
 */
import { describe, expect, test } from 'vitest';
import { makeDot, type Dot } from '../core/ids.js';
import { GarbageCollector, type GcReport } from '../protocols/common/garbage-collector.js';

function collector(self: number, n: number) {
  const gc = new GarbageCollector(self, n);
  const collected: Dot[] = [];
  const executed: Dot[] = [];
  const receive = (from: number, report: GcReport) => gc.receive(from, report, (d) => collected.push(d), (d) => executed.push(d));
  return { gc, collected, executed, receive };
}

describe('garbage collector', () => {
  test('nothing is stable until every process reported; then exactly the common prefix', () => {
    const { gc, collected, executed, receive } = collector(1, 3);
    for (const seq of [1, 2, 3]) gc.commit(makeDot(2, seq));
    for (const seq of [1, 2]) gc.execute(makeDot(2, seq));
    receive(2, { committed: [0, 3, 0], executed: [0, 2, 0] });
    expect(collected).toEqual([]);
    expect(gc.isCollected(makeDot(2, 1))).toBe(false);
    receive(3, { committed: [0, 2, 0], executed: [0, 1, 0] });
    expect(collected).toEqual([makeDot(2, 1), makeDot(2, 2)]);
    expect(executed).toEqual([makeDot(2, 1)]);
    expect(gc.isCollected(makeDot(2, 2))).toBe(true);
    expect(gc.isCollected(makeDot(2, 3))).toBe(false);
    expect(gc.isExecutedEverywhere(makeDot(2, 2))).toBe(false);
  });

  test('a committed dot that has not executed everywhere stays in the index: committed-stable is not executed-stable', () => {
    const { gc, collected, executed, receive } = collector(1, 3);
    gc.commit(makeDot(1, 1));
    receive(2, { committed: [1, 0, 0], executed: [0, 0, 0] });
    receive(3, { committed: [1, 0, 0], executed: [1, 0, 0] });
    expect(collected).toEqual([makeDot(1, 1)]);
    // Committed everywhere, but this process (and 2) did not execute it: it must not be pruned.
    expect(executed).toEqual([]);
    gc.execute(makeDot(1, 1));
    receive(2, { committed: [1, 0, 0], executed: [1, 0, 0] });
    expect(executed).toEqual([makeDot(1, 1)]);
  });

  test('a reordered, older report never moves a frontier back', () => {
    const { gc, collected, receive } = collector(1, 3);
    for (const seq of [1, 2, 3, 4]) gc.commit(makeDot(3, seq));
    receive(2, { committed: [0, 0, 4], executed: [0, 0, 0] });
    receive(2, { committed: [0, 0, 1], executed: [0, 0, 0] }); // late, older
    receive(3, { committed: [0, 0, 4], executed: [0, 0, 0] });
    expect(collected.length).toBe(4);
    expect(gc.reportedCommittedBy(2, 3)).toBe(4);
  });

  test('a crashed process holds everything back until the configuration removes it; then its reports no longer count', () => {
    const { gc, collected, executed } = collector(1, 3);
    const onCollected = (d: Dot) => collected.push(d);
    const onExecuted = (d: Dot) => executed.push(d);
    for (const seq of [1, 2]) {
      gc.commit(makeDot(1, seq));
      gc.execute(makeDot(1, seq));
    }
    gc.receive(2, { committed: [2, 0, 0], executed: [2, 0, 0] }, onCollected, onExecuted);
    // Process 3 crashed before reporting anything.
    expect(collected).toEqual([]);
    gc.setMembers([1, 2], onCollected, onExecuted);
    expect(collected).toEqual([makeDot(1, 1), makeDot(1, 2)]);
    expect(executed).toEqual([makeDot(1, 1), makeDot(1, 2)]);
    // From now on the two members alone decide, and process 3's reports are ignored by the minimum.
    gc.commit(makeDot(1, 3));
    gc.receive(2, { committed: [3, 0, 0], executed: [2, 0, 0] }, onCollected, onExecuted);
    expect(collected.at(-1)).toBe(makeDot(1, 3));
    expect(() => gc.setMembers([2, 3], onCollected, onExecuted)).toThrow(/outside its own configuration/);
  });
});
