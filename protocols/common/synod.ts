/**
 * Single-decree Flexible Paxos for one dot (PROTOCOLS.md §1.5), the slow path of EPaxos and Atlas
 * (and later Tempo). One instance holds both roles a process plays for the dot:
 *
 * - acceptor: `bal` (highest ballot promised), `abal` (ballot of the last accepted value) and `aval`
 *   (that value; initially the process's own proposal). `bal` and `abal` are kept apart on purpose:
 *   merging them, as the EPaxos TLA+ spec and Go code did, can break agreement (Sutra, 2019).
 * - proposer: the ballot it drives phase 2 with and the acks it has for that ballot only.
 *
 * Ballots: process `p` owns `p + n·r` in round `r`. Round 0 belongs to the dot's coordinator, which
 * therefore skips phase 1. Phase 1 (recovery: Atlas's and Tempo's MRec/MRecAck) is
 * {@link Synod.prepare}: a ballot above `bal` is promised and answered with `abal`/`aval`; the
 * recovering proposer then picks its value by the protocol's own rule and runs phase 2 with
 * {@link Synod.propose} at that ballot.
 */
import type { ProcessId } from '../../core/ids.js';
import { invariant } from '../../core/invariant.js';

/** What an acceptor answers to an Accept. */
export type AcceptOutcome<Value> =
  | { readonly kind: 'accepted'; readonly ballot: number }
  | { readonly kind: 'chosen'; readonly value: Value }
  | { readonly kind: 'rejected'; readonly bal: number };

/** What an acceptor answers to a Prepare (phase 1). */
export type PrepareOutcome<Value> =
  | { readonly kind: 'promised'; readonly ballot: number; readonly abal: number; readonly aval: Value | undefined }
  | { readonly kind: 'chosen'; readonly value: Value }
  | { readonly kind: 'rejected'; readonly bal: number };

/** One dot's single-decree Flexible Paxos state at one process, in both roles (acceptor and proposer). */
export class Synod<Value> {
  private balValue = 0;
  private abalValue = 0;
  private avalValue: Value | undefined;
  private chosenValue: Value | undefined;
  /** Highest ballot seen in any message for the dot (promised or not), so a recovery starts above it. */
  private seenValue = 0;
  // Proposer state: the ballot being driven, its value, and who accepted it.
  private proposalBallot = 0;
  private proposalValue: Value | undefined;
  private acks: ProcessId[] | undefined;

  /** The round-0 ballot of a dot coordinated by `coordinator`: its own id, no phase 1 needed. */
  static roundZeroBallot(coordinator: ProcessId): number {
    return coordinator;
  }

  /** The next ballot process `self` owns above every ballot seen here, for recovery (phase 1). */
  recoveryBallot(self: ProcessId, n: number): number {
    const highest = Math.max(this.balValue, this.seenValue, this.proposalBallot);
    return self + n * (Math.floor(highest / n) + 1);
  }

  /** Notes a ballot seen in a message (e.g. another process's recovery), without promising it. */
  observe(ballot: number): void {
    if (ballot > this.seenValue) this.seenValue = ballot;
  }

  /**
   * The acceptor's phase-1 rule for `Prepare(ballot)`: a ballot above `bal` is promised (`bal` rises,
   * `abal`/`aval` are reported); a chosen dot answers with its value; anything else is refused.
   */
  prepare(ballot: number): PrepareOutcome<Value> {
    this.observe(ballot);
    if (this.chosenValue !== undefined) return { kind: 'chosen', value: this.chosenValue };
    if (ballot <= this.balValue) return { kind: 'rejected', bal: this.balValue };
    this.balValue = ballot;
    return { kind: 'promised', ballot, abal: this.abalValue, aval: this.avalValue };
  }

  /** The ballot this process drives phase 2 with as proposer (0 when none). */
  get proposing(): number {
    return this.proposalBallot;
  }

  /** Highest ballot promised. */
  get bal(): number {
    return this.balValue;
  }
  /** Ballot of the last accepted value; 0 when only the initial proposal is held. */
  get abal(): number {
    return this.abalValue;
  }
  /** The last accepted value, or the initial proposal. */
  get aval(): Value | undefined {
    return this.avalValue;
  }
  /** The chosen value, once known. */
  get chosen(): Value | undefined {
    return this.chosenValue;
  }

  /**
   * Sets the acceptor's initial value (its own proposal, from MCollect), as if accepted at ballot 0.
   * A value accepted at a real ballot already (an Accept that overtook the MCollect) is kept.
   */
  setInitialValue(value: Value): void {
    if (this.abalValue === 0) this.avalValue = value;
  }

  /** Starts phase 2 as proposer of `value` at `ballot` (the round-0 ballot skips phase 1). */
  propose(ballot: number, value: Value): void {
    invariant(ballot > 0, 'synod: ballot 0 means "nothing accepted" and cannot be proposed');
    invariant(ballot > this.proposalBallot, () => `synod: ballot ${ballot} proposed after ${this.proposalBallot}`);
    this.proposalBallot = ballot;
    this.proposalValue = value;
    this.acks = [];
  }

  /** The acceptor's rule for `Accept(ballot, value)`. */
  accept(ballot: number, value: Value): AcceptOutcome<Value> {
    this.observe(ballot);
    if (this.chosenValue !== undefined) return { kind: 'chosen', value: this.chosenValue };
    if (ballot < this.balValue) return { kind: 'rejected', bal: this.balValue };
    this.balValue = ballot;
    this.abalValue = ballot;
    this.avalValue = value;
    return { kind: 'accepted', ballot };
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

  /** Records that `value` is chosen (a commit); later Accepts are answered with it. */
  choose(value: Value): void {
    this.chosenValue = value;
    this.acks = undefined;
    this.proposalValue = undefined;
  }
}
