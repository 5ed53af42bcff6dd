/**
 * The adapter register (docs/adapter-register.md): the replicated state machine that gates which
 * adapter version an inference fleet may serve. One {@link TargetRegister} per deployment target.
 *
 * Phases: STABLE (no candidate; the fleet serves `current`) → propose → BETA_TESTING (validators
 * evaluate `candidate`; the fleet keeps serving `current`) → a strict majority of the whole group
 * votes pass → RELEASE_COMMIT (`candidate` became `current`; the fleet may switch) → markStable →
 * STABLE. In BETA_TESTING, fails ≥ ⌈groupSize/2⌉ make a pass majority impossible, so the candidate is
 * rejected (→ STABLE), and a newer proposal supersedes an unfinished candidate.
 *
 * Safety rests on three facts the code keeps local and asserts: a version only becomes `current` from
 * `candidate` on a strict pass majority; a candidate that leaves BETA_TESTING any other way (rejected,
 * superseded) is gone for good, since only the next sequence number can be proposed; and sequence
 * numbers only grow, so `current` only moves forward. An illegal request is answered with a reason and
 * changes nothing — not even the audit log.
 *
 * Everything here is deterministic and plain data: time (`proposedAt`) comes from the proposer, never
 * from a clock, so every replica applying the same operations in the same order holds the same state.
 */
import { invariant } from '../../core/invariant.js';
import { chainEntry, GENESIS_HASH, type AuditEntry, type AuditEvent } from './audit-log.js';

/** The three phases of a target's register. */
export type Phase = 'STABLE' | 'BETA_TESTING' | 'RELEASE_COMMIT';

/** A version as the register names it: `<seq>-<first VERSION_DIGEST_PREFIX_CHARS of the digest>`. */
export interface Version {
  readonly versionId: string;
  readonly seq: number;
  /** SHA-256 of the artifact's bytes, 64 lowercase hex digits. */
  readonly digest: string;
  /** Artifact size in bytes. */
  readonly size: number;
}

/** One validator's verdict on the candidate (the first one it sends is the one that counts). */
export interface Vote {
  readonly validator: string;
  readonly pass: boolean;
  /** What the validator measured, for the audit log (free text, bounded by EVIDENCE_CHARS_MAX). */
  readonly evidence: string;
}

/** The version under evaluation. */
export interface Candidate extends Version {
  /** When the proposer proposed it, in its milliseconds (for latency figures; never compared). */
  readonly proposedAt: number;
  /** In arrival order. */
  readonly votes: readonly Vote[];
}

/** A target's register as plain data (what `read()` returns and what replicas are compared on). */
export interface RegisterState {
  readonly target: string;
  readonly phase: Phase;
  readonly current: Version | null;
  readonly candidate: Candidate | null;
  /** The sequence number the next proposal will get. */
  readonly nextSeq: number;
  readonly logLength: number;
  /** Hash of the last audit entry, or the genesis hash when the log is empty. */
  readonly logHead: string;
}

/** The answer to one operation: accepted (with the version concerned) or rejected with a reason. */
export type Outcome =
  | { readonly ok: true; readonly versionId: string; readonly phase: Phase }
  | { readonly ok: false; readonly reason: string };

/** Characters of the digest a version id carries: enough to tell artifacts apart for people. */
export const VERSION_DIGEST_PREFIX_CHARS = 12;
/** Longest evidence string a vote may carry (the log is replicated to every validator). */
export const EVIDENCE_CHARS_MAX = 1024;
/** Largest artifact size accepted, in bytes (1 TiB; adapters are megabytes). */
export const ARTIFACT_BYTES_MAX = 2 ** 40;
/** Largest validator group: the register's votes are per-candidate lists sized by it. */
export const VALIDATORS_MAX = 15;
/** Longest validator id. */
export const VALIDATOR_ID_CHARS_MAX = 64;

/** Options of a register. */
export interface RegisterOptions {
  /** The validator group, by id; its size is the `groupSize` of the majority rules. */
  readonly validators: readonly string[];
  /** Audit entries per target before the register refuses to grow (RegisterLimitError). */
  readonly logEntriesMax?: number;
}

/** Default {@link RegisterOptions.logEntriesMax}. */
export const LOG_ENTRIES_MAX_DEFAULT = 1_000_000;

/** A register limit was reached; the message names it. */
export class RegisterLimitError extends Error {
  override name = 'RegisterLimitError';
}

const DIGEST_PATTERN = /^[0-9a-f]{64}$/;

/** Checks and copies register options; throws an Error naming the bad field. */
export function validateRegisterOptions(options: RegisterOptions): Required<RegisterOptions> {
  const { validators } = options;
  if (validators.length < 1 || validators.length > VALIDATORS_MAX) {
    throw new RangeError(`a register needs 1 to ${VALIDATORS_MAX} validators (got ${validators.length})`);
  }
  const seen = new Set<string>();
  for (const validator of validators) {
    if (validator.length === 0 || validator.length > VALIDATOR_ID_CHARS_MAX) {
      throw new RangeError(`validator ids must have 1 to ${VALIDATOR_ID_CHARS_MAX} characters (got '${validator}')`);
    }
    if (seen.has(validator)) throw new RangeError(`validator '${validator}' appears twice`);
    seen.add(validator);
  }
  const logEntriesMax = options.logEntriesMax ?? LOG_ENTRIES_MAX_DEFAULT;
  if (!Number.isInteger(logEntriesMax) || logEntriesMax < 1) {
    throw new RangeError(`logEntriesMax must be a positive integer (got ${logEntriesMax})`);
  }
  return { validators: [...validators], logEntriesMax };
}

function reject(reason: string): Outcome {
  return { ok: false, reason };
}

/** The register of one deployment target. */
export class TargetRegister {
  private phase: Phase = 'STABLE';
  private current: Version | null = null;
  private candidate: { version: Version; proposedAt: number; votes: Vote[] } | null = null;
  private nextSeq = 1;
  private readonly log: AuditEntry[] = [];
  private readonly validators: ReadonlySet<string>;
  private readonly groupSize: number;
  private readonly logEntriesMax: number;

  constructor(
    readonly target: string,
    options: RegisterOptions,
  ) {
    const valid = validateRegisterOptions(options);
    this.validators = new Set(valid.validators);
    this.groupSize = valid.validators.length;
    this.logEntriesMax = valid.logEntriesMax;
  }

  /** Passes needed to release: a strict majority of the whole group, passes > groupSize/2. */
  get passesNeeded(): number {
    return Math.floor(this.groupSize / 2) + 1;
  }

  /** Fails that make a pass majority impossible: ⌈groupSize/2⌉. */
  get failsToReject(): number {
    return Math.ceil(this.groupSize / 2);
  }

  /**
   * A new candidate with the next sequence number; phase → BETA_TESTING. An unfinished candidate is
   * superseded (recorded as such). Proposing the digest already current or already the candidate is
   * rejected: it would only restart the evaluation of identical bytes.
   */
  propose(digest: string, size: number, proposedAt: number): Outcome {
    if (!DIGEST_PATTERN.test(digest)) return reject(`digest must be 64 lowercase hex digits (SHA-256), got '${digest.slice(0, 80)}'`);
    if (!Number.isInteger(size) || size < 1 || size > ARTIFACT_BYTES_MAX) {
      return reject(`size must be an integer from 1 to ${ARTIFACT_BYTES_MAX} bytes (got ${size})`);
    }
    if (!Number.isFinite(proposedAt) || proposedAt < 0) return reject(`proposedAt must be non-negative milliseconds (got ${proposedAt})`);
    if (this.current !== null && this.current.digest === digest) return reject(`digest is already current as ${this.current.versionId}`);
    if (this.candidate !== null && this.candidate.version.digest === digest) {
      return reject(`digest is already the candidate ${this.candidate.version.versionId}`);
    }
    if (!Number.isSafeInteger(this.nextSeq + 1)) return reject('sequence numbers are exhausted');
    this.ensureLogRoom(this.candidate === null ? 1 : 2);

    const seq = this.nextSeq++;
    const version: Version = { versionId: `${seq}-${digest.slice(0, VERSION_DIGEST_PREFIX_CHARS)}`, seq, digest, size };
    invariant(this.current === null || version.seq > this.current.seq, 'a new version must be newer than current');
    if (this.candidate !== null) {
      this.append({ type: 'superseded', versionId: this.candidate.version.versionId, by: version.versionId });
    }
    this.candidate = { version, proposedAt, votes: [] };
    this.phase = 'BETA_TESTING';
    this.append({ type: 'proposed', versionId: version.versionId, seq, digest, size, proposedAt });
    return { ok: true, versionId: version.versionId, phase: this.phase };
  }

  /**
   * A validator's verdict on the candidate. Only group members vote, only on the candidate in
   * BETA_TESTING, once each. Releases on a strict pass majority, rejects once one is impossible.
   */
  vote(versionId: string, validator: string, pass: boolean, evidence: string): Outcome {
    if (!this.validators.has(validator)) return reject(`'${validator.slice(0, VALIDATOR_ID_CHARS_MAX)}' is not a validator of this group`);
    if (evidence.length > EVIDENCE_CHARS_MAX) return reject(`evidence exceeds EVIDENCE_CHARS_MAX=${EVIDENCE_CHARS_MAX} characters`);
    if (this.phase !== 'BETA_TESTING' || this.candidate === null) {
      return reject(`no candidate is under evaluation (phase ${this.phase}); vote for ${versionId.slice(0, 80)} ignored`);
    }
    const candidate = this.candidate;
    if (versionId !== candidate.version.versionId) {
      return reject(`${versionId.slice(0, 80)} is not the candidate (the candidate is ${candidate.version.versionId})`);
    }
    if (candidate.votes.some((vote) => vote.validator === validator)) {
      return reject(`validator '${validator}' already voted on ${versionId} (the first vote counts)`);
    }
    this.ensureLogRoom(2);

    candidate.votes.push({ validator, pass, evidence });
    this.append({ type: 'voted', versionId, validator, pass, evidence });
    let passes = 0;
    for (const vote of candidate.votes) if (vote.pass) passes++;
    const fails = candidate.votes.length - passes;
    invariant(candidate.votes.length <= this.groupSize, 'more votes than validators');
    // Both at once would need passes + fails > groupSize.
    invariant(!(passes >= this.passesNeeded && fails >= this.failsToReject), 'a candidate cannot be both released and rejected');
    if (passes >= this.passesNeeded) {
      invariant(this.current === null || candidate.version.seq > this.current.seq, 'current only moves forward');
      this.current = candidate.version;
      this.candidate = null;
      this.phase = 'RELEASE_COMMIT';
      this.append({ type: 'released', versionId, passes, fails });
    } else if (fails >= this.failsToReject) {
      this.candidate = null;
      this.phase = 'STABLE';
      this.append({ type: 'rejected', versionId, passes, fails });
    }
    return { ok: true, versionId, phase: this.phase };
  }

  /** After a release, once the fleet has converged: phase RELEASE_COMMIT → STABLE. */
  markStable(versionId: string): Outcome {
    if (this.phase !== 'RELEASE_COMMIT' || this.current === null) {
      return reject(`markStable needs phase RELEASE_COMMIT (phase is ${this.phase})`);
    }
    if (versionId !== this.current.versionId) {
      return reject(`${versionId.slice(0, 80)} is not the released version (current is ${this.current.versionId})`);
    }
    this.ensureLogRoom(1);
    this.phase = 'STABLE';
    this.append({ type: 'stable', versionId });
    return { ok: true, versionId, phase: this.phase };
  }

  /** The register as plain data (a fresh copy; callers may keep it). */
  read(): RegisterState {
    const candidate = this.candidate;
    const last = this.log[this.log.length - 1];
    return {
      target: this.target,
      phase: this.phase,
      current: this.current === null ? null : { ...this.current },
      candidate: candidate === null ? null : { ...candidate.version, proposedAt: candidate.proposedAt, votes: candidate.votes.map((vote) => ({ ...vote })) },
      nextSeq: this.nextSeq,
      logLength: this.log.length,
      logHead: last === undefined ? GENESIS_HASH : last.hash,
    };
  }

  /** The audit log, oldest first (entries are immutable plain data). */
  auditLog(): readonly AuditEntry[] {
    return this.log;
  }

  /** Checked before a transition so that a full log refuses the whole operation, never half of it. */
  private ensureLogRoom(entries: number): void {
    if (this.log.length + entries > this.logEntriesMax) {
      throw new RegisterLimitError(`audit log of target '${this.target}' would exceed logEntriesMax=${this.logEntriesMax} entries`);
    }
  }

  private append(event: AuditEvent): void {
    this.log.push(chainEntry(this.log[this.log.length - 1], this.target, event));
  }
}
