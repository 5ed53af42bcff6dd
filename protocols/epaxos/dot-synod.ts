/**
 * Single-decree Flexible Paxos for one EPaxos dot, with phase 1 (PROTOCOLS.md §1.5, §7.2).
 *
 * The idea is common/synod.ts's (which EPaxos used before it had recovery); that class has no promise
 * rule yet and belongs to the common pieces, so EPaxos keeps its own with the phase-1 half:
 *
 * - acceptor: `bal` (highest ballot promised), `abal` (ballot of the last accepted value, 0 for none)
 *   and `aval`. `bal` and `abal` stay separate: merging them, as the EPaxos TLA+ spec and Go code did,
 *   can break agreement (Sutra, 2019). Unlike common/synod.ts, the round-0 proposal (MCollect) is not
 *   held here as `aval`: it is not an accepted value, and recovery rule 3 must tell the two apart.
 * - proposer: the ballot it drives phase 2 with, its value, and the acks for that ballot only.
 *
 * Ballots: process `p` owns `p + n·r` in round `r`. Round 0 belongs to the dot's coordinator, which
 * skips phase 1 (its ballot is its id). Recovery ballots are above n, so above every round-0 ballot.
 */
import type { ProcessId } from '../../core/ids.js';
import { invariant } from '../../core/invariant.js';

/** What an acceptor answers to an Accept. */
export type AcceptOutcome<Value> =
  | { readonly kind: 'accepted'; readonly ballot: number }
  | { readonly kind: 'chosen'; readonly value: Value }
  | { readonly kind: 'rejected'; readonly bal: number };

/** One dot's consensus state at one process, in both roles. */
export class DotSynod<Value> {
  private balValue = 0;
  private abalValue = 0;
  private avalValue: Value | undefined;
  private chosenValue: Value | undefined;
  private proposalBallot = 0;
  private proposalValue: Value | undefined;
  private acks: ProcessId[] | undefined;

  /** Highest ballot promised or accepted. */
  get bal(): number {
    return this.balValue;
  }
  /** Ballot of the last accepted value; 0 when none was. */
  get abal(): number {
    return this.abalValue;
  }
  /** The last accepted value (undefined while abal is 0). */
  get aval(): Value | undefined {
    return this.avalValue;
  }
  /** The chosen value, once known. */
  get chosen(): Value | undefined {
    return this.chosenValue;
  }

  /** The next ballot `self` owns above `seen` and every ballot promised here. */
  nextBallot(self: ProcessId, n: number, seen: number): number {
    invariant(self >= 1 && self <= n, () => `synod: process ${self} for n=${n}`);
    return self + n * (Math.floor(Math.max(this.balValue, seen) / n) + 1);
  }

  /** Phase 1: promises `ballot` if it is above every ballot promised so far. */
  prepare(ballot: number): boolean {
    if (ballot <= this.balValue) return false;
    this.balValue = ballot;
    return true;
  }

  /**
   * The weaker promise recovery's re-collect (rule 4) needs: `ballot` itself may already be promised
   * (its Prepare came first); only a higher one refuses it.
   */
  promiseAtLeast(ballot: number): boolean {
    if (ballot < this.balValue) return false;
    this.balValue = ballot;
    return true;
  }

  /** Phase 2, the acceptor's rule for `Accept(ballot, value)`. */
  accept(ballot: number, value: Value): AcceptOutcome<Value> {
    if (this.chosenValue !== undefined) return { kind: 'chosen', value: this.chosenValue };
    if (ballot < this.balValue) return { kind: 'rejected', bal: this.balValue };
    invariant(ballot > 0, 'synod: ballot 0 means "nothing accepted" and cannot be accepted');
    this.balValue = ballot;
    this.abalValue = ballot;
    this.avalValue = value;
    return { kind: 'accepted', ballot };
  }

  /** Starts phase 2 as proposer of `value` at `ballot`. */
  propose(ballot: number, value: Value): void {
    invariant(ballot > 0, 'synod: ballot 0 means "nothing accepted" and cannot be proposed');
    invariant(ballot > this.proposalBallot, () => `synod: ballot ${ballot} proposed after ${this.proposalBallot}`);
    this.proposalBallot = ballot;
    this.proposalValue = value;
    this.acks = [];
  }

  /**
   * The proposer counts an ack from `from` for `ballot`; returns the value once `quorumSize` distinct
   * acceptors accepted the current ballot, and undefined before (or for an old ballot).
   */
  accepted(from: ProcessId, ballot: number, quorumSize: number): Value | undefined {
    const acks = this.acks;
    if (acks === undefined || ballot !== this.proposalBallot || this.chosenValue !== undefined) return undefined;
    if (acks.includes(from)) return undefined;
    acks.push(from);
    if (acks.length < quorumSize) return undefined;
    this.acks = undefined;
    return this.proposalValue;
  }

  /** Records that `value` is chosen; later Accepts are answered with it. */
  choose(value: Value): void {
    this.chosenValue = value;
    this.acks = undefined;
    this.proposalValue = undefined;
  }
}
