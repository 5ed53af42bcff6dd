/**
 * EPaxos explicit prepare: what a recovering process does with F+1 promises (PROTOCOLS.md §7.2),
 * as a pure function so that the rules can be read, and tested, in one place.
 *
 * With the simple fast quorum of 2F processes (core/quorum.ts; docs/epaxos-recovery.md has the
 * argument), the rules are, first that applies:
 *
 * 1. some process committed the dot: it answers the Prepare with MCommit instead of a promise, so
 *    the recovering process commits that value; this function never sees that case;
 * 2. some promise carries an accepted value: Accept the one with the highest ballot;
 * 3. at least ⌊n/2⌋ promises, none from the coordinator, carry identical round-0 pre-accepts: Accept
 *    that value (it is the only one the fast path can have committed);
 * 4. the command is known (to the recovering process or to some promise): collect fresh dependencies
 *    from F+1 processes at the new ballot, without fast path, then Accept their union;
 * 5. otherwise nobody in F+1 processes saw the command, so it cannot have been committed: Accept a
 *    no-op, which needs no dependencies (it conflicts with nothing).
 */
import type { Command } from '../../core/command.js';
import { dotSource, type Dot, type ProcessId } from '../../core/ids.js';
import { invariant } from '../../core/invariant.js';
import { sameDeps } from '../common/deps.js';
import type { EPaxosValue, MPrepareOk } from './messages.js';

/** What to do after phase 1. */
export type RecoveryStep =
  | { readonly kind: 'accept'; readonly rule: 2 | 3 | 5; readonly value: EPaxosValue }
  | { readonly kind: 'collect'; readonly rule: 4; readonly cmd: Command };

/** A promise and who made it. */
export interface PrepareReply {
  readonly from: ProcessId;
  readonly ok: MPrepareOk;
}

/** The no-op value: no command, nothing to wait for. */
export const NOOP: EPaxosValue = { cmd: null, deps: [], seq: 0 };

/**
 * Rules 2–5 over `promises` (at least F+1 of them, from distinct processes) for `dot`, in a system of
 * `n` processes; `known` is the command if the recovering process has it.
 */
export function recoveryStep(dot: Dot, n: number, promises: readonly PrepareReply[], known: Command | undefined): RecoveryStep {
  invariant(promises.length >= Math.floor(n / 2) + 1, () => `epaxos recovery decided on ${promises.length} promises for n=${n}`);
  // Deterministic whatever the arrival order: look at the promises by process id.
  const sorted = [...promises].sort((a, b) => a.from - b.from);

  // Rule 2: the accepted value with the highest ballot.
  let best: MPrepareOk['accepted'] = null;
  for (const { ok } of sorted) {
    if (ok.accepted !== null && (best === null || ok.accepted.ballot > best.ballot)) best = ok.accepted;
  }
  if (best !== null) return { kind: 'accept', rule: 2, value: best.value };

  // Rule 3: ⌊n/2⌋ identical round-0 pre-accepts from fast-quorum members other than the coordinator.
  const coordinator = dotSource(dot);
  const threshold = Math.floor(n / 2);
  const members = sorted.filter((p) => p.from !== coordinator && p.ok.preAccepted !== null);
  for (const candidate of members) {
    const value = candidate.ok.preAccepted!;
    let identical = 0;
    for (const other of members) {
      const theirs = other.ok.preAccepted!;
      if (theirs.seq === value.seq && sameDeps(theirs.deps, value.deps)) identical++;
    }
    if (identical >= threshold) {
      const cmd = candidate.ok.cmd;
      invariant(cmd !== null, 'epaxos recovery: a pre-accept without its command');
      return { kind: 'accept', rule: 3, value: { cmd, deps: value.deps, seq: value.seq } };
    }
  }

  // Rule 4: the command is known somewhere; rule 5: it is not.
  let cmd = known;
  for (const { ok } of sorted) if (cmd === undefined && ok.cmd !== null) cmd = ok.cmd;
  if (cmd !== undefined) return { kind: 'collect', rule: 4, cmd };
  return { kind: 'accept', rule: 5, value: NOOP };
}
