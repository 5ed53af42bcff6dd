/**
 * The artifact side of the adapter-deploy scenario: the adapter factory and validation suite it is
 * given (the real ones live in apps/adapter-register/; the scenario only sees these two small
 * interfaces), the stream of versions a run publishes, and the content-addressed artifact store.
 *
 * - The version stream: `versions` adapters made by the factory, `round(versions × badFraction)` of
 *   them regressed at seeded positions, each with its own seed, published every `publishIntervalMs`.
 * - The store holds the bytes by SHA-256 and models a download as the round trip to its region plus
 *   size / bandwidth. A corrupted download (an adapter fault) returns a copy with one byte flipped at
 *   a seeded position: the receiver hashes what it got and finds the mismatch for real.
 * - Digests are memoised per byte array: the store's own bytes are hashed once, when published, and a
 *   corrupted copy (a new array) is hashed when it is verified. Equal bytes give an equal digest, so
 *   the memo changes no outcome, only the cost.
 * - Validation verdicts are memoised the same way: the suite is a deterministic function of the bytes,
 *   and every validator that verified its download holds the store's very array.
 */
import { invariant, UsageError } from '../../core/invariant.js';
import { Rng } from '../../core/rng.js';
import { sha256Hex } from '../../apps/adapter-register/sha256.js';
import type { Planet } from '../planet.js';

/** What a validation suite answers about one adapter's bytes. */
export interface ValidationVerdict {
  readonly pass: boolean;
  readonly metrics: Readonly<Record<string, number>>;
  /** One line for the audit log. */
  readonly evidence: string;
}

/** A pluggable validation suite: deterministic in the bytes (apps/adapter-register/validation.ts). */
export interface ValidationSuite {
  validate(bytes: Uint8Array): ValidationVerdict;
}

/** Makes adapter files: a good one, or a deliberately regressed one, from a seed. */
export interface AdapterFactory {
  make(kind: AdapterKind, seed: number): Uint8Array;
}

export type AdapterKind = 'good' | 'regressed';

/** One version of the stream. */
export interface StreamVersion {
  /** 1-based position in the stream. */
  readonly index: number;
  readonly kind: AdapterKind;
  /** The seed the factory made it from. */
  readonly adapterSeed: number;
  readonly bytes: Uint8Array;
  readonly digest: string;
  readonly publishMs: number;
}

/** Options of the version stream. */
export interface StreamOptions {
  readonly versions: number;
  /** Fraction of regressed versions, 0–1; their count is rounded to the nearest integer. */
  readonly badFraction: number;
  readonly firstPublishMs: number;
  readonly publishIntervalMs: number;
  readonly seed: string | number;
  /** The kinds, version by version, instead of `versions` and `badFraction`. */
  readonly kinds?: readonly AdapterKind[];
}

/** Largest number of versions in one stream. */
export const VERSIONS_MAX = 1000;

/** The stream of versions: the same seed gives the same bytes, kinds and times. */
export function makeVersionStream(factory: AdapterFactory, options: StreamOptions): StreamVersion[] {
  const versions = options.kinds?.length ?? options.versions;
  const { badFraction } = options;
  if (!Number.isInteger(versions) || versions < 1 || versions > VERSIONS_MAX) {
    throw new UsageError(`versions must be an integer from 1 to ${VERSIONS_MAX} (got ${versions})`);
  }
  if (!(badFraction >= 0 && badFraction <= 1)) throw new UsageError(`the bad fraction must be a number from 0 to 1 (got ${badFraction})`);
  const rng = new Rng(`${String(options.seed)}/stream`);
  const bad = Math.round(versions * badFraction);
  // A seeded Fisher–Yates shuffle of the positions; the first `bad` of them are regressed.
  const positions = Array.from({ length: versions }, (_, i) => i);
  for (let i = versions - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [positions[i], positions[j]] = [positions[j]!, positions[i]!];
  }
  const regressed = new Set(positions.slice(0, bad));
  const stream: StreamVersion[] = [];
  const digests = new Set<string>();
  for (let i = 0; i < versions; i++) {
    const kind: AdapterKind = options.kinds?.[i] ?? (regressed.has(i) ? 'regressed' : 'good');
    const adapterSeed = rng.int(2 ** 31);
    const bytes = factory.make(kind, adapterSeed);
    const digest = sha256Hex(bytes);
    invariant(!digests.has(digest), () => `version ${i + 1} repeats the bytes of an earlier version (adapter seed ${adapterSeed})`);
    digests.add(digest);
    stream.push({ index: i + 1, kind, adapterSeed, bytes, digest, publishMs: options.firstPublishMs + i * options.publishIntervalMs });
  }
  return stream;
}

/** A content-addressed store of adapter files in one region. */
export class ArtifactStore {
  private readonly byDigest = new Map<string, Uint8Array>();
  private readonly digests = new WeakMap<Uint8Array, string>();
  private readonly regionIndex: number;

  constructor(
    private readonly planet: Planet,
    readonly region: string,
    /** Transfer rate of a download, in bytes per millisecond. */
    readonly bytesPerMs: number,
  ) {
    this.regionIndex = planet.regionIndex(region);
    invariant(bytesPerMs > 0 && Number.isFinite(bytesPerMs), () => `the store's bandwidth must be positive (got ${bytesPerMs} bytes/ms)`);
  }

  /** Stores `bytes` under their SHA-256 and returns it. */
  publish(bytes: Uint8Array): string {
    const digest = this.digestOf(bytes);
    this.byDigest.set(digest, bytes);
    return digest;
  }

  /** SHA-256 of `bytes`, memoised per array. */
  digestOf(bytes: Uint8Array): string {
    let digest = this.digests.get(bytes);
    if (digest === undefined) {
      digest = sha256Hex(bytes);
      this.digests.set(bytes, digest);
    }
    return digest;
  }

  /** Size of the artifact `digest`, in bytes. */
  sizeOf(digest: string): number {
    return this.get(digest).length;
  }

  /** How long downloading `digest` takes from `region`: the round trip to the store plus size / bandwidth. */
  transferMs(region: string, digest: string): number {
    const rttMs = (2 * this.planet.oneWayNs(this.planet.regionIndex(region), this.regionIndex)) / 1_000_000;
    return rttMs + this.get(digest).length / this.bytesPerMs;
  }

  /**
   * The bytes a download of `digest` delivers: the stored array, or with `corruption` (a seeded draw
   * in [0, 1)) a copy with the byte at that relative position flipped.
   */
  download(digest: string, corruption: number | undefined): Uint8Array {
    const bytes = this.get(digest);
    if (corruption === undefined) return bytes;
    const copy = bytes.slice();
    const at = Math.min(copy.length - 1, Math.floor(corruption * copy.length));
    copy[at] = copy[at]! ^ 0xff;
    return copy;
  }

  private get(digest: string): Uint8Array {
    const bytes = this.byDigest.get(digest);
    invariant(bytes !== undefined, () => `no artifact ${digest.slice(0, 12)} in the store`);
    return bytes;
  }
}

/** A suite whose verdicts are memoised per byte array (see the file comment). */
export class MemoisedSuite implements ValidationSuite {
  private readonly verdicts = new WeakMap<Uint8Array, ValidationVerdict>();
  /** Times the underlying suite actually ran. */
  runs = 0;

  constructor(private readonly suite: ValidationSuite) {}

  validate(bytes: Uint8Array): ValidationVerdict {
    let verdict = this.verdicts.get(bytes);
    if (verdict === undefined) {
      verdict = this.suite.validate(bytes);
      this.runs++;
      this.verdicts.set(bytes, verdict);
    }
    return verdict;
  }
}

/** A factory whose adapters are kept per (kind, seed): making one fits a model, and equal inputs give equal bytes. */
export class MemoisedFactory implements AdapterFactory {
  private readonly made = new Map<string, Uint8Array>();

  constructor(
    private readonly factory: AdapterFactory,
    /** Adapters kept at most (the oldest are forgotten first). */
    private readonly keepMax = 4096,
  ) {}

  make(kind: AdapterKind, seed: number): Uint8Array {
    const key = `${kind}/${seed}`;
    let bytes = this.made.get(key);
    if (bytes === undefined) {
      bytes = this.factory.make(kind, seed);
      if (this.made.size >= this.keepMax) this.made.delete(this.made.keys().next().value!);
      this.made.set(key, bytes);
    }
    return bytes;
  }
}
