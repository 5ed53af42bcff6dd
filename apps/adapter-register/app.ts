/**
 * The adapter register as a replicated application: one {@link TargetRegister} per key (a deployment
 * target), driven by `call` operations whose arguments are canonical JSON, and read with `get`.
 *
 * Every result is a JSON string: a call answers an {@link Outcome} (accepted, or rejected with a
 * reason), a `get` answers the target's {@link RegisterState}. A malformed or unknown operation is
 * answered as a rejection rather than thrown: it comes from a client, and a client must not be able
 * to stop every validator by sending one bad command. Only a register limit (targets, log entries)
 * throws, as a {@link RegisterLimitError} naming it.
 *
 * Each target is independent (its own sequence numbers and audit log), so key-partitioned executors
 * (Tempo's shards) can split targets between them without changing any result.
 */
import { makeCommand, type Command, type KeyOps, type Op, type OpResult } from '../../core/command.js';
import type { Rifl } from '../../core/ids.js';
import type { StateMachine } from '../../core/state-machine.js';
import { canonicalJson, type AuditEntry } from './audit-log.js';
import { RegisterLimitError, TargetRegister, validateRegisterOptions, type Outcome, type RegisterOptions, type RegisterState } from './register.js';

/** Most deployment targets one register holds. */
export const TARGETS_MAX = 4096;
/** Longest target name (a key). */
export const TARGET_CHARS_MAX = 256;
/** Longest encoded argument string a call may carry. */
export const CALL_ARGS_CHARS_MAX = 4096;

/** Arguments of `propose`. */
export interface ProposeArgs {
  readonly digest: string;
  readonly size: number;
  readonly proposedAt: number;
}

/** Arguments of `vote`. */
export interface VoteArgs {
  readonly versionId: string;
  readonly validator: string;
  readonly pass: boolean;
  readonly evidence: string;
}

/** The operation proposing an artifact as the next candidate. */
export function proposeOp(args: ProposeArgs): Op {
  return { op: 'call', name: 'propose', args: canonicalJson({ digest: args.digest, size: args.size, proposedAt: args.proposedAt }) };
}

/** The operation carrying one validator's verdict. */
export function voteOp(args: VoteArgs): Op {
  return {
    op: 'call',
    name: 'vote',
    args: canonicalJson({ versionId: args.versionId, validator: args.validator, pass: args.pass, evidence: args.evidence }),
  };
}

/** The operation ending a release once the fleet has converged. */
export function markStableOp(versionId: string): Op {
  return { op: 'call', name: 'markStable', args: canonicalJson({ versionId }) };
}

/** The read-only poll: a `get`, so reads commute with each other. */
export function readOp(): Op {
  return { op: 'get' };
}

/** One command applying `op` to the register of `target`. */
export function registerCommand(rifl: Rifl, target: string, op: Op): Command {
  return makeCommand(rifl, [{ key: target, ops: [op] }]);
}

/** Parses a call's result. */
export function decodeOutcome(result: OpResult): Outcome {
  if (result === null) throw new TypeError('a register call never answers null');
  return JSON.parse(result) as Outcome;
}

/** Parses a read's result. */
export function decodeState(result: OpResult): RegisterState {
  if (result === null) throw new TypeError('a register read never answers null');
  return JSON.parse(result) as RegisterState;
}

function rejection(reason: string): string {
  return canonicalJson({ ok: false, reason });
}

type Fields = Record<string, unknown>;

/** The call's arguments as an object with the given field types, or a reason why not. */
function parseArgs(name: string, args: string, types: Record<string, 'string' | 'number' | 'boolean'>): Fields | string {
  if (args.length > CALL_ARGS_CHARS_MAX) return `arguments of ${name} exceed CALL_ARGS_CHARS_MAX=${CALL_ARGS_CHARS_MAX} characters`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    return `arguments of ${name} are not JSON`;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return `arguments of ${name} must be a JSON object`;
  const fields = parsed as Fields;
  for (const [field, type] of Object.entries(types)) {
    if (typeof fields[field] !== type) return `${name} needs '${field}' as a ${type}`;
  }
  return fields;
}

/** The adapter register application: every deployment target's register. */
export class AdapterRegisterApp implements StateMachine {
  private readonly targets = new Map<string, TargetRegister>();
  private readonly options: Required<RegisterOptions>;

  constructor(options: RegisterOptions) {
    this.options = validateRegisterOptions(options);
  }

  apply(keyOps: KeyOps): OpResult[] {
    const results: OpResult[] = [];
    for (const op of keyOps.ops) results.push(this.applyOne(keyOps.key, op));
    return results;
  }

  /** The state of `target` (a fresh register's when it was never written). */
  read(target: string): RegisterState {
    return (this.targets.get(target) ?? new TargetRegister(target, this.options)).read();
  }

  /** Every target written so far, sorted by name. */
  targetNames(): string[] {
    return [...this.targets.keys()].sort();
  }

  /** The audit log of `target` (empty when it was never written). */
  auditLog(target: string): readonly AuditEntry[] {
    return this.targets.get(target)?.auditLog() ?? [];
  }

  private applyOne(target: string, op: Op): OpResult {
    if (op.op === 'get') return canonicalJson(this.read(target));
    if (op.op !== 'call') return rejection(`the adapter register has no '${op.op}'; use propose, vote, markStable or get`);
    if (target.length === 0 || target.length > TARGET_CHARS_MAX) return rejection(`target names have 1 to ${TARGET_CHARS_MAX} characters`);
    const existing = this.targets.get(target);
    if (existing === undefined && this.targets.size >= TARGETS_MAX) {
      throw new RegisterLimitError(`the register would exceed TARGETS_MAX=${TARGETS_MAX} targets`);
    }
    // A target starts existing with its first accepted call, so a rejected one leaves no trace.
    const register = existing ?? new TargetRegister(target, this.options);
    const outcome = this.call(register, op.name, op.args);
    if (existing === undefined && outcome.ok) this.targets.set(target, register);
    return canonicalJson(outcome);
  }

  private call(register: TargetRegister, name: string, args: string): Outcome {
    switch (name) {
      case 'propose': {
        const fields = parseArgs(name, args, { digest: 'string', size: 'number', proposedAt: 'number' });
        if (typeof fields === 'string') return { ok: false, reason: fields };
        return register.propose(fields.digest as string, fields.size as number, fields.proposedAt as number);
      }
      case 'vote': {
        const fields = parseArgs(name, args, { versionId: 'string', validator: 'string', pass: 'boolean', evidence: 'string' });
        if (typeof fields === 'string') return { ok: false, reason: fields };
        return register.vote(fields.versionId as string, fields.validator as string, fields.pass as boolean, fields.evidence as string);
      }
      case 'markStable': {
        const fields = parseArgs(name, args, { versionId: 'string' });
        if (typeof fields === 'string') return { ok: false, reason: fields };
        return register.markStable(fields.versionId as string);
      }
      default:
        return { ok: false, reason: `unknown register operation '${name.slice(0, 64)}'; accepted: propose, vote, markStable` };
    }
  }
}
