/**
 * Adapter files: the artifacts the register deploys, their binary format, and how Orrery makes them.
 *
 * Format (version 1), all little-endian:
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 4 | magic `ORAD` (0x4f 0x52 0x41 0x44) |
 * | 4 | 2 | format version, u16 = 1 |
 * | 6 | 2 | header length in bytes, u16 = 40 |
 * | 8 | 4 | input dimension d, u32 |
 * | 12 | 4 | output dimension k, u32 |
 * | 16 | 4 | rank r, u32 (1 ≤ r ≤ min(d, k, RANK_MAX)) |
 * | 20 | 4 | scale s, f32 (finite, > 0): the adapted weights are W + s·A·B |
 * | 24 | 16 | base model tag, ASCII hex: the first 16 hex digits of the SHA-256 of the base weights |
 * | 40 | 4·d·r | A, d×r, f32 row-major |
 * | 40+4dr | 4·r·k | B, r×k, f32 row-major |
 *
 * The file has exactly that length; every weight is finite. The parser checks each rule in that
 * order and refuses the first broken one with an {@link AdapterFormatError} naming it, so a truncated
 * download, a file of another format or a corrupted header is reported as what it is, never loaded.
 * The format carries no checksum: integrity is the artifact store's job (files are addressed by their
 * SHA-256, checked before parsing), and a checksum inside the file would only repeat it.
 *
 * {@link makeAdapter} produces the artifacts Orrery's simulator and runtime deploy: a *good* adapter is
 * fitted to the task by deterministic gradient descent on a training set drawn from its seed (so each
 * seed is a different retraining, with different bytes); a *regressed* one is one of three typical
 * failures — a sign error in the update (the model moves away from the task), an adapter trained on
 * garbage (noise of the task's magnitude), or an over-scaled update (a wrong α) that overshoots and
 * blows up outputs.
 */
import { invariant } from '../../core/invariant.js';
import { Rng } from '../../core/rng.js';
import { baseModel, gaussianMatrix, matmul, MODEL_INPUT_DIM, MODEL_OUTPUT_DIM, sampleTask, TARGET_NOISE_STDDEV, TASK_RANK } from './model.js';

/** File magic, "ORAD". */
export const ADAPTER_MAGIC = Uint8Array.of(0x4f, 0x52, 0x41, 0x44);
/** The only format version this parser reads. */
export const ADAPTER_FORMAT_VERSION = 1;
/** Header length in bytes. */
export const ADAPTER_HEADER_BYTES = 40;
/** Largest input or output dimension accepted. */
export const ADAPTER_DIM_MAX = 4096;
/** Largest rank accepted. */
export const ADAPTER_RANK_MAX = 64;
/** Length of the base model tag, in ASCII hex digits. */
export const BASE_TAG_CHARS = 16;

/** A parsed adapter file. */
export interface Adapter {
  readonly formatVersion: number;
  readonly inputDim: number;
  readonly outputDim: number;
  readonly rank: number;
  readonly scale: number;
  /** The base model this adapter was trained for (see BaseModel.tag). */
  readonly baseTag: string;
  /** A, inputDim × rank, row-major. */
  readonly a: Float64Array;
  /** B, rank × outputDim, row-major. */
  readonly b: Float64Array;
}

/** A file that is not a well-formed adapter; `reason` says which rule it breaks. */
export class AdapterFormatError extends Error {
  override name = 'AdapterFormatError';
  constructor(readonly reason: string) {
    super(`malformed adapter file: ${reason}`);
  }
}

/** Length in bytes of a file with these dimensions. */
export function adapterFileBytes(inputDim: number, outputDim: number, rank: number): number {
  return ADAPTER_HEADER_BYTES + 4 * rank * (inputDim + outputDim);
}

/** Parses an adapter file, or throws an {@link AdapterFormatError} naming the first rule it breaks. */
export function parseAdapter(bytes: Uint8Array): Adapter {
  if (bytes.length < ADAPTER_HEADER_BYTES) {
    throw new AdapterFormatError(`truncated header: ${bytes.length} bytes, the header alone is ${ADAPTER_HEADER_BYTES}`);
  }
  for (let i = 0; i < ADAPTER_MAGIC.length; i++) {
    if (bytes[i] !== ADAPTER_MAGIC[i]) throw new AdapterFormatError(`bad magic: expected "ORAD" (4f 52 41 44), got ${hexBytes(bytes, 0, 4)}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const formatVersion = view.getUint16(4, true);
  if (formatVersion !== ADAPTER_FORMAT_VERSION) {
    throw new AdapterFormatError(`unsupported format version ${formatVersion}, this reader accepts ${ADAPTER_FORMAT_VERSION}`);
  }
  const headerBytes = view.getUint16(6, true);
  if (headerBytes !== ADAPTER_HEADER_BYTES) {
    throw new AdapterFormatError(`header length ${headerBytes}, format version 1 has ${ADAPTER_HEADER_BYTES}`);
  }
  const inputDim = view.getUint32(8, true);
  const outputDim = view.getUint32(12, true);
  const rank = view.getUint32(16, true);
  if (inputDim < 1 || inputDim > ADAPTER_DIM_MAX) throw new AdapterFormatError(`input dimension ${inputDim} outside 1..${ADAPTER_DIM_MAX}`);
  if (outputDim < 1 || outputDim > ADAPTER_DIM_MAX) throw new AdapterFormatError(`output dimension ${outputDim} outside 1..${ADAPTER_DIM_MAX}`);
  const rankMax = Math.min(inputDim, outputDim, ADAPTER_RANK_MAX);
  if (rank < 1 || rank > rankMax) throw new AdapterFormatError(`rank ${rank} outside 1..${rankMax} (min of d=${inputDim}, k=${outputDim}, ${ADAPTER_RANK_MAX})`);
  const scale = view.getFloat32(20, true);
  if (!Number.isFinite(scale) || scale <= 0) throw new AdapterFormatError(`scale ${scale} is not a finite positive number`);
  let baseTag = '';
  for (let i = 24; i < 24 + BASE_TAG_CHARS; i++) {
    const code = bytes[i]!;
    const isHex = (code >= 0x30 && code <= 0x39) || (code >= 0x61 && code <= 0x66);
    if (!isHex) throw new AdapterFormatError(`base model tag byte ${i - 24} is 0x${code.toString(16).padStart(2, '0')}, expected a lowercase hex digit`);
    baseTag += String.fromCharCode(code);
  }
  const expectedBytes = adapterFileBytes(inputDim, outputDim, rank);
  if (bytes.length !== expectedBytes) {
    const what = bytes.length < expectedBytes ? 'truncated' : 'trailing bytes';
    throw new AdapterFormatError(`${what}: ${bytes.length} bytes, d=${inputDim} k=${outputDim} r=${rank} needs exactly ${expectedBytes}`);
  }
  const a = readMatrix(view, ADAPTER_HEADER_BYTES, inputDim * rank, 'A');
  const b = readMatrix(view, ADAPTER_HEADER_BYTES + 4 * inputDim * rank, rank * outputDim, 'B');
  return { formatVersion, inputDim, outputDim, rank, scale, baseTag, a, b };
}

function readMatrix(view: DataView, offset: number, count: number, name: string): Float64Array {
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const value = view.getFloat32(offset + 4 * i, true);
    if (!Number.isFinite(value)) throw new AdapterFormatError(`${name}[${i}] is ${value}; every weight must be finite`);
    values[i] = value;
  }
  return values;
}

function hexBytes(bytes: Uint8Array, start: number, end: number): string {
  const parts: string[] = [];
  for (let i = start; i < end; i++) parts.push(bytes[i]!.toString(16).padStart(2, '0'));
  return parts.join(' ');
}

/** Encodes an adapter in format version 1 (the inverse of {@link parseAdapter}; weights rounded to float32). */
export function encodeAdapter(adapter: Omit<Adapter, 'formatVersion'>): Uint8Array {
  const { inputDim, outputDim, rank } = adapter;
  invariant(adapter.a.length === inputDim * rank, 'encodeAdapter: A is not d×r');
  invariant(adapter.b.length === rank * outputDim, 'encodeAdapter: B is not r×k');
  invariant(adapter.baseTag.length === BASE_TAG_CHARS, () => `encodeAdapter: base tag must have ${BASE_TAG_CHARS} chars`);
  const bytes = new Uint8Array(adapterFileBytes(inputDim, outputDim, rank));
  const view = new DataView(bytes.buffer);
  bytes.set(ADAPTER_MAGIC, 0);
  view.setUint16(4, ADAPTER_FORMAT_VERSION, true);
  view.setUint16(6, ADAPTER_HEADER_BYTES, true);
  view.setUint32(8, inputDim, true);
  view.setUint32(12, outputDim, true);
  view.setUint32(16, rank, true);
  view.setFloat32(20, adapter.scale, true);
  for (let i = 0; i < BASE_TAG_CHARS; i++) bytes[24 + i] = adapter.baseTag.charCodeAt(i);
  for (let i = 0; i < adapter.a.length; i++) view.setFloat32(ADAPTER_HEADER_BYTES + 4 * i, adapter.a[i]!, true);
  const bOffset = ADAPTER_HEADER_BYTES + 4 * adapter.a.length;
  for (let i = 0; i < adapter.b.length; i++) view.setFloat32(bOffset + 4 * i, adapter.b[i]!, true);
  return bytes;
}

/** Training examples per fitted adapter. */
export const TRAINING_ITEMS = 256;
/** Gradient descent steps per fitted adapter. */
export const TRAINING_STEPS = 300;
/** Gradient descent step size. */
export const TRAINING_STEP_SIZE = 0.3;

/**
 * Fits A (d×r), B (r×k) to the task by full-batch gradient descent on the least-squares loss
 * ½·mean‖x·(W + A·B) − y‖² over `TRAINING_ITEMS` examples drawn from `rng`. With the second moments
 * G = XᵀX/n and C = Xᵀ(Y − X·W)/n precomputed, the gradient with respect to M = A·B is G·M − C, so
 * ∇A = (G·M − C)·Bᵀ and ∇B = Aᵀ·(G·M − C); each step costs O(d²k), independent of n.
 */
export function fitAdapter(rng: Rng, rank: number): { a: Float64Array; b: Float64Array } {
  const d = MODEL_INPUT_DIM;
  const k = MODEL_OUTPUT_DIM;
  const base = baseModel().weights;
  const { inputs, targets } = sampleTask(rng.fork('training'), TRAINING_ITEMS, TARGET_NOISE_STDDEV);
  const gram = new Float64Array(d * d);
  const cross = new Float64Array(d * k);
  const prediction = new Float64Array(k);
  for (let n = 0; n < TRAINING_ITEMS; n++) {
    const x = n * d;
    for (let j = 0; j < k; j++) prediction[j] = 0;
    for (let t = 0; t < d; t++) for (let j = 0; j < k; j++) prediction[j]! += inputs[x + t]! * base[t * k + j]!;
    for (let s = 0; s < d; s++) {
      const xs = inputs[x + s]! / TRAINING_ITEMS;
      for (let t = 0; t < d; t++) gram[s * d + t]! += xs * inputs[x + t]!;
      for (let j = 0; j < k; j++) cross[s * k + j]! += xs * (targets[n * k + j]! - prediction[j]!);
    }
  }
  // Small random start breaks the symmetry of the factorization; its scale lets GD leave the saddle at 0 quickly.
  const init = rng.fork('init');
  const a = gaussianMatrix(init, d, rank, 0.3);
  const b = gaussianMatrix(init, rank, k, 0.3);
  const product = new Float64Array(d * k);
  const residual = new Float64Array(d * k);
  const gradA = new Float64Array(d * rank);
  const gradB = new Float64Array(rank * k);
  for (let step = 0; step < TRAINING_STEPS; step++) {
    matmul(a, b, d, rank, k, product);
    matmul(gram, product, d, d, k, residual);
    for (let i = 0; i < residual.length; i++) residual[i]! -= cross[i]!;
    gradA.fill(0);
    gradB.fill(0);
    for (let s = 0; s < d; s++) {
      for (let j = 0; j < k; j++) {
        const g = residual[s * k + j]!;
        for (let q = 0; q < rank; q++) {
          gradA[s * rank + q]! += g * b[q * k + j]!;
          gradB[q * k + j]! += a[s * rank + q]! * g;
        }
      }
    }
    for (let i = 0; i < a.length; i++) a[i]! -= TRAINING_STEP_SIZE * gradA[i]!;
    for (let i = 0; i < b.length; i++) b[i]! -= TRAINING_STEP_SIZE * gradB[i]!;
  }
  return { a, b };
}

/** The kinds of regression {@link makeAdapter} produces, chosen by the seed. */
export const REGRESSION_KINDS = ['sign-flipped', 'noise', 'over-scaled'] as const;
export type RegressionKind = (typeof REGRESSION_KINDS)[number];

/** Which regression a `makeAdapter('regressed', seed)` file carries. */
export function regressionKind(seed: number): RegressionKind {
  invariant(Number.isInteger(seed) && seed >= 0, () => `adapter seed must be a non-negative integer (got ${seed})`);
  return REGRESSION_KINDS[seed % REGRESSION_KINDS.length]!;
}

/** Scale an over-scaled adapter carries (a wrong α): the update overshoots the task's change fivefold. */
export const OVER_SCALE = 5;

/**
 * The bytes of an adapter file for the shipped base model, deterministic in (`kind`, `seed`).
 * `good`: fitted to the task (see {@link fitAdapter}). `regressed`: by `seed mod 3`, a fitted update with
 * its sign flipped, random weights of the task's magnitude, or a fitted update at scale {@link OVER_SCALE}.
 */
export function makeAdapter(kind: 'good' | 'regressed', seed: number): Uint8Array {
  invariant(kind === 'good' || kind === 'regressed', () => `adapter kind must be good or regressed (got ${String(kind)})`);
  invariant(Number.isInteger(seed) && seed >= 0, () => `adapter seed must be a non-negative integer (got ${seed})`);
  const rng = new Rng(`orrery/adapter-register/adapter/${kind}/${seed}`);
  const rank = TASK_RANK;
  const header = { inputDim: MODEL_INPUT_DIM, outputDim: MODEL_OUTPUT_DIM, rank, baseTag: baseModel().tag };
  if (kind === 'good') return encodeAdapter({ ...header, scale: 1, ...fitAdapter(rng, rank) });
  switch (regressionKind(seed)) {
    case 'sign-flipped': {
      const { a, b } = fitAdapter(rng, rank);
      for (let i = 0; i < a.length; i++) a[i] = -a[i]!;
      return encodeAdapter({ ...header, scale: 1, a, b });
    }
    case 'noise': {
      // Drawn like the task's Δ (see taskDelta): entries of A·B have Δ's variance 1/d, pointing nowhere useful.
      const a = gaussianMatrix(rng, MODEL_INPUT_DIM, rank, 1 / Math.sqrt(MODEL_INPUT_DIM));
      const b = gaussianMatrix(rng, rank, MODEL_OUTPUT_DIM, 1 / Math.sqrt(rank));
      return encodeAdapter({ ...header, scale: 1, a, b });
    }
    case 'over-scaled':
      return encodeAdapter({ ...header, scale: OVER_SCALE, ...fitAdapter(rng, rank) });
  }
}

/**
 * The adapted weights W + s·A·B of the shipped base model (d×k row-major), what an inference node
 * serves with and a validator evaluates. The adapter must match the base model's dimensions.
 */
export function adaptedWeights(adapter: Adapter): Float64Array {
  const base = baseModel();
  invariant(adapter.inputDim === base.inputDim && adapter.outputDim === base.outputDim, 'adaptedWeights: adapter dimensions differ from the base model');
  const weights = matmul(adapter.a, adapter.b, adapter.inputDim, adapter.rank, adapter.outputDim, new Float64Array(base.weights.length));
  for (let i = 0; i < weights.length; i++) weights[i] = base.weights[i]! + adapter.scale * weights[i]!;
  return weights;
}
