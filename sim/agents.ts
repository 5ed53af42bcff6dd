/**
 * Agents: reactive users of a replicated application inside the simulator.
 *
 * The simulator's workload clients are closed-loop generators that never look at what they get
 * back. An application such as the adapter register has users that do: a validator votes on the
 * version id a proposal was given, an inference node downloads what a poll says is current. An
 * agent is sans-IO like a process: its inputs (`start`, `onReply`, `onWake`, `onMessage`) take the
 * simulated time in milliseconds and return actions, and the simulator owns the rest:
 * - `submit`: a command (one or more keys' operations) to the agent's process. Each agent is closed
 *   loop: submissions queue FIFO behind the outstanding one, and every reply comes back, in
 *   submission order, with the action that asked for it. With a request timeout (the fault
 *   schedule's `clientTimeoutMs`, or the agents' own `requestTimeoutMs`) an unanswered command is
 *   sent again, same rifl, to the next process by distance, exactly like a workload client's.
 * - `wake`: `onWake(tag)` at `atMs` (never in the past).
 * - `send`: a message to another agent, delivered after the one-way delay between their regions
 *   (agent links are reliable and FIFO; the fault schedule acts between processes).
 *
 * Placement: an agent sits in a region and talks to its `process` (a validator to its own
 * consensus process) or, without one, to the closest process. An agent bound to a process stops
 * with it when the fault schedule crashes it (nothing reaches it any more); unbound agents never
 * crash. While any agent has a command outstanding or a wake pending, the processes' timers keep
 * running; an agent that is done simply stops asking for wakes.
 *
 * Actions are plain data; agents never see rifls, links or the event queue.
 */
import type { KeyOps } from '../core/command.js';
import type { ProcessId } from '../core/ids.js';
import type { ExecutionResult } from '../core/process.js';

/** An agent's index in `SimulationOptions.agents.list` (0-based). */
export type AgentIndex = number;

/** A command for the agent's process: its keys' operations (sorted by key, each key once). */
export interface SubmitAction {
  readonly kind: 'submit';
  readonly keyOps: readonly KeyOps[];
}

/** `onWake(tag)` at `atMs`. */
export interface WakeAction {
  readonly kind: 'wake';
  readonly atMs: number;
  readonly tag: number;
}

/** A message to another agent (plain data). */
export interface SendAction {
  readonly kind: 'send';
  readonly to: AgentIndex;
  readonly message: unknown;
}

export type AgentAction = SubmitAction | WakeAction | SendAction;

/** A reactive user of the replicated application. */
export interface Agent {
  /** The region the agent sits in (its delays to processes and other agents). */
  readonly region: string;
  /** The process it talks to and stops with; the closest process (never crashing) when absent. */
  readonly process?: ProcessId | undefined;
  /** At time 0. */
  start(nowMs: number): readonly AgentAction[];
  /**
   * The reply to `submitted` (replies come in submission order); `sentMs` is when the command first
   * left for a process (after waiting in the agent's queue), so `nowMs − sentMs` is its latency.
   */
  onReply(submitted: SubmitAction, results: readonly ExecutionResult[], nowMs: number, sentMs: number): readonly AgentAction[];
  /** A wake it asked for. */
  onWake(tag: number, nowMs: number): readonly AgentAction[];
  /** A message from another agent. */
  onMessage(from: AgentIndex, message: unknown, nowMs: number): readonly AgentAction[];
}

/** The agents of a run. */
export interface AgentsOptions {
  readonly list: readonly Agent[];
  /**
   * Resend an unanswered command to the next process after this long; the fault schedule's
   * `clientTimeoutMs` wins when it is given; never when both are absent.
   */
  readonly requestTimeoutMs?: number;
}

/** Largest number of commands an agent may have queued behind its outstanding one. */
export const AGENT_QUEUE_MAX = 1024;
/** Largest number of agents in one run. */
export const AGENTS_MAX = 100_000;

/** What the simulator tells about the agents after a run. */
export interface AgentStats {
  /** Commands agents submitted (each once, whatever its retries). */
  readonly submitted: number;
  readonly completed: number;
  /** Commands sent again after a timeout. */
  readonly retries: number;
  readonly messages: number;
  readonly wakes: number;
}

/** Convenience: no actions. */
export const NO_ACTIONS: readonly AgentAction[] = Object.freeze([]);
