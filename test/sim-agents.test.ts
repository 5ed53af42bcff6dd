/**
 * Agents in the simulator (sim/agents.ts): commands through a real protocol, replies in submission
 * order, wakes, messages over the planet's delays, crashes with the bound process, retries after a
 * timeout, and no effect on runs without agents.
 */
import { describe, expect, test } from 'vitest';
import type { KeyOps } from '../core/command.js';
import { makeConfig } from '../core/config.js';
import type { ExecutionResult } from '../core/process.js';
import { protocolByName } from '../protocols/index.js';
import { NO_ACTIONS, type Agent, type AgentAction, type AgentIndex, type SubmitAction } from '../sim/agents.js';
import { builtInPlanet } from '../sim/planet.js';
import { Simulation, type SimulationOptions } from '../sim/simulation.js';
import { WORKLOAD_DEFAULTS } from '../sim/workload.js';

const REGIONS = ['us-east1', 'europe-west2', 'asia-southeast1'];
const planet = builtInPlanet('gcp');

function put(key: string, value: string): SubmitAction {
  const keyOps: KeyOps[] = [{ key, ops: [{ op: 'put', value }] }];
  return { kind: 'submit', keyOps };
}

function get(key: string): SubmitAction {
  return { kind: 'submit', keyOps: [{ key, ops: [{ op: 'get' }] }] };
}

/** An agent scripted by functions; records everything it receives. */
class ScriptedAgent implements Agent {
  readonly replies: { atMs: number; sentMs: number; submitted: SubmitAction; results: readonly ExecutionResult[] }[] = [];
  readonly wakes: { atMs: number; tag: number }[] = [];
  readonly messages: { atMs: number; from: AgentIndex; message: unknown }[] = [];

  constructor(
    readonly region: string,
    private readonly script: {
      start?: () => readonly AgentAction[];
      onWake?: (tag: number, nowMs: number) => readonly AgentAction[];
      onReply?: (submitted: SubmitAction, nowMs: number) => readonly AgentAction[];
    },
    readonly process?: number,
  ) {}

  start(): readonly AgentAction[] {
    return this.script.start?.() ?? NO_ACTIONS;
  }

  onReply(submitted: SubmitAction, results: readonly ExecutionResult[], nowMs: number, sentMs: number): readonly AgentAction[] {
    this.replies.push({ atMs: nowMs, sentMs, submitted, results });
    return this.script.onReply?.(submitted, nowMs) ?? NO_ACTIONS;
  }

  onWake(tag: number, nowMs: number): readonly AgentAction[] {
    this.wakes.push({ atMs: nowMs, tag });
    return this.script.onWake?.(tag, nowMs) ?? NO_ACTIONS;
  }

  onMessage(from: AgentIndex, message: unknown, nowMs: number): readonly AgentAction[] {
    this.messages.push({ atMs: nowMs, from, message });
    return NO_ACTIONS;
  }
}

function simulation(protocol: string, agents: Agent[], extra: Partial<SimulationOptions> = {}): Simulation {
  return new Simulation({
    protocol: protocolByName(protocol),
    config: makeConfig(protocol as 'fpaxos', { n: 3, f: 1 }),
    planet,
    processRegions: REGIONS,
    clientRegions: [],
    clientsPerRegion: 0,
    workload: WORKLOAD_DEFAULTS,
    seed: 7,
    agents: { list: agents },
    ...extra,
  });
}

describe('agents in the simulator', () => {
  for (const protocol of ['fpaxos', 'epaxos', 'atlas', 'tempo']) {
    test(`${protocol}: queued commands are answered in submission order with the values written`, () => {
      const agent = new ScriptedAgent('asia-southeast1', { start: () => [put('x', 'a'), put('x', 'b'), get('x')] });
      const result = simulation(protocol, [agent]).run();
      expect(agent.replies.map((reply) => reply.submitted.keyOps[0]!.ops[0]!.op)).toEqual(['put', 'put', 'get']);
      expect(agent.replies[2]!.results[0]!.results).toEqual(['b']);
      // Closed loop: each command left only once the previous one was answered.
      expect(agent.replies[1]!.sentMs).toBe(agent.replies[0]!.atMs);
      expect(agent.replies[2]!.sentMs).toBe(agent.replies[1]!.atMs);
      expect(result.agents).toEqual({ submitted: 3, completed: 3, retries: 0, messages: 0, wakes: 0 });
    });
  }

  test('wakes come at the time asked; messages take the one-way delay between the regions', () => {
    const receiver = new ScriptedAgent('europe-west2', {});
    const sender = new ScriptedAgent('us-east1', {
      start: () => [{ kind: 'wake', atMs: 250, tag: 4 }],
      onWake: () => [{ kind: 'send', to: 0, message: { hello: 1 } }],
    });
    simulation('fpaxos', [receiver, sender]).run();
    expect(sender.wakes).toEqual([{ atMs: 250, tag: 4 }]);
    expect(receiver.messages).toEqual([{ atMs: 250 + planet.rttMs('us-east1', 'europe-west2') / 2, from: 1, message: { hello: 1 } }]);
  });

  test('an agent bound to a process stops when it crashes; an unanswered command goes to the next process after the timeout', () => {
    const bound = new ScriptedAgent('europe-west2', { start: () => [{ kind: 'wake', atMs: 100, tag: 1 }, { kind: 'wake', atMs: 5000, tag: 2 }] }, 2);
    // Its closest process (2, in europe-west2) is down from the start: the put is retried elsewhere.
    const free = new ScriptedAgent('europe-west2', { start: () => [{ kind: 'wake', atMs: 200, tag: 1 }], onWake: () => [put('y', 'v')] });
    const result = simulation('tempo', [bound, free], { faults: { crashes: [{ process: 2, atMs: 150 }] }, agents: { list: [bound, free], requestTimeoutMs: 1000 } }).run();
    expect(bound.wakes.map((wake) => wake.tag)).toEqual([1]);
    expect(free.replies).toHaveLength(1);
    expect(free.replies[0]!.atMs).toBeGreaterThan(1200);
    expect(result.agents?.retries).toBeGreaterThanOrEqual(1);
    expect(result.faults.crashed).toEqual([2]);
  });

  test('a run without agents reports none', () => {
    const result = new Simulation({
      protocol: protocolByName('fpaxos'),
      config: makeConfig('fpaxos', { n: 3, f: 1 }),
      planet,
      processRegions: REGIONS,
      clientRegions: REGIONS,
      clientsPerRegion: 2,
      workload: { ...WORKLOAD_DEFAULTS, commandsPerClient: 5 },
      seed: 1,
    }).run();
    expect(result.agents).toBeUndefined();
    expect(result.commandsCompleted).toBe(30);
  });
});
