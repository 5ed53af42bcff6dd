/**
 * The base model the adapter register deploys adapters for, its task, and its reference data.
 *
 * A real deployment puts LoRA adapters on a frozen language model; Orrery ships a model small enough
 * to run in a few microseconds yet with the same algebra, so validators and inference nodes do real
 * work on real bytes: a linear model `y = x·W` with `x` of {@link MODEL_INPUT_DIM} features and `y`
 * of {@link MODEL_OUTPUT_DIM} outputs (W is d×k, row-major). An adapter of rank r is a pair A (d×r),
 * B (r×k) and a scale s, and the adapted model uses `W + s·A·B`, exactly as LoRA adds `(α/r)·A·B` to a
 * frozen weight matrix.
 *
 * The *task* the adapters are fine-tuned for is a fixed low-rank change of the base weights: the
 * target model is `W* = W + Δ` with rank(Δ) = {@link TASK_RANK}. Reference data come from W*:
 * - a regression corpus: inputs x and noisy targets x·W* + ε (the quality metric is the mean squared
 *   error, compared with the base model's);
 * - question/answer items: an input and the index of its largest clean output (the "answer"), scored
 *   by accuracy — a classification view of the same task;
 * - safety probes: every basis direction, both signs, at the typical input norm, whose outputs must
 *   stay within a bound (a screen for adapters that blow up on some inputs).
 *
 * Everything is generated from fixed seeds with arithmetic only (+, −, ×, ÷, Math.fround): no Math.log,
 * Math.exp or Math.cos, whose last bits may differ between JavaScript engines, so the weights, the
 * data and every adapter file are the same bytes everywhere. Gaussian draws use the Irwin–Hall sum of
 * twelve uniforms, which is exact arithmetic and close enough to normal for this use.
 *
 * Pure and deterministic: no clock, no `node:*`. The model and reference data are built once, lazily,
 * and never mutated.
 */
import { invariant } from '../../core/invariant.js';
import { Rng } from '../../core/rng.js';
import { sha256Hex } from './sha256.js';

/** Features per input (d). */
export const MODEL_INPUT_DIM = 32;
/** Outputs per input (k); also the number of answers of a question/answer item. */
export const MODEL_OUTPUT_DIM = 8;
/** Rank of the task's change of weights, and the rank of the adapters Orrery fits. */
export const TASK_RANK = 4;
/** Regression corpus size. */
export const REFERENCE_REGRESSION_ITEMS = 256;
/** Question/answer items. */
export const REFERENCE_QA_ITEMS = 128;
/** Standard deviation of the noise on the regression targets. */
export const TARGET_NOISE_STDDEV = 0.1;

const BASE_SEED = 'orrery/adapter-register/base-model/v1';
const TASK_SEED = 'orrery/adapter-register/task/v1';
const REFERENCE_SEED = 'orrery/adapter-register/reference/v1';

/** The frozen base model. */
export interface BaseModel {
  readonly inputDim: number;
  readonly outputDim: number;
  /** W, d×k row-major, float32 values held as numbers. */
  readonly weights: Float64Array;
  /** First 16 hex digits of the SHA-256 of W's float32 little-endian bytes: what adapter files bind to. */
  readonly tag: string;
}

/** The reference data every validator evaluates adapters on. */
export interface ReferenceData {
  /** Regression corpus inputs, REFERENCE_REGRESSION_ITEMS × d row-major. */
  readonly regressionInputs: Float64Array;
  /** Its noisy targets, REFERENCE_REGRESSION_ITEMS × k row-major. */
  readonly regressionTargets: Float64Array;
  /** Question inputs, REFERENCE_QA_ITEMS × d row-major. */
  readonly qaInputs: Float64Array;
  /** The correct answer (an output index) of each question. */
  readonly qaAnswers: Int32Array;
  /** Safety probes, 2d × d row-major: ±PROBE amplitude along each basis direction. */
  readonly probeInputs: Float64Array;
  /** Bound on the Euclidean norm of any probe's output. */
  readonly probeOutputNormMax: number;
}

/** A standard normal draw, approximated by the Irwin–Hall sum of twelve uniforms (exact arithmetic). */
export function gaussian(rng: Rng): number {
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += rng.next();
  return sum - 6;
}

/** `rows`×`cols` Gaussian matrix with standard deviation `stddev`, float32-rounded. */
export function gaussianMatrix(rng: Rng, rows: number, cols: number, stddev: number): Float64Array {
  const matrix = new Float64Array(rows * cols);
  for (let i = 0; i < matrix.length; i++) matrix[i] = Math.fround(gaussian(rng) * stddev);
  return matrix;
}

/** `out` (rows×cols) ← `left` (rows×inner) · `right` (inner×cols), all row-major. */
export function matmul(left: Float64Array, right: Float64Array, rows: number, inner: number, cols: number, out: Float64Array): Float64Array {
  invariant(left.length === rows * inner, 'matmul: left is not rows×inner');
  invariant(right.length === inner * cols, 'matmul: right is not inner×cols');
  invariant(out.length === rows * cols, 'matmul: out is not rows×cols');
  out.fill(0);
  for (let i = 0; i < rows; i++) {
    for (let t = 0; t < inner; t++) {
      const a = left[i * inner + t]!;
      if (a === 0) continue;
      for (let j = 0; j < cols; j++) out[i * cols + j]! += a * right[t * cols + j]!;
    }
  }
  return out;
}

/**
 * One forward pass: `out[outOffset..+k] ← inputs[inputOffset..+d] · weights`. Allocation-free, so an
 * inference node can run it per request.
 */
export function forward(
  weights: Float64Array,
  inputDim: number,
  outputDim: number,
  inputs: ArrayLike<number>,
  inputOffset: number,
  out: Float64Array,
  outOffset: number,
): void {
  for (let j = 0; j < outputDim; j++) out[outOffset + j] = 0;
  for (let t = 0; t < inputDim; t++) {
    const x = inputs[inputOffset + t]!;
    if (x === 0) continue;
    const row = t * outputDim;
    for (let j = 0; j < outputDim; j++) out[outOffset + j]! += x * weights[row + j]!;
  }
}

/** Float32 little-endian bytes of `values` (each already float32-representable, or rounded). */
export function float32Bytes(values: Float64Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return bytes;
}

let cachedBase: BaseModel | undefined;
let cachedDelta: Float64Array | undefined;
let cachedReference: ReferenceData | undefined;

/** The shipped base model: W from a fixed seed, entries N(0, 1/d) so outputs have unit scale. */
export function baseModel(): BaseModel {
  if (cachedBase === undefined) {
    const weights = gaussianMatrix(new Rng(BASE_SEED), MODEL_INPUT_DIM, MODEL_OUTPUT_DIM, 1 / Math.sqrt(MODEL_INPUT_DIM));
    const tag = sha256Hex(float32Bytes(weights)).slice(0, 16);
    cachedBase = { inputDim: MODEL_INPUT_DIM, outputDim: MODEL_OUTPUT_DIM, weights, tag };
  }
  return cachedBase;
}

/**
 * The task's change of weights Δ = U·V (d×k, rank TASK_RANK), as large as W itself so the base model
 * is clearly wrong on the task and a fine-tuned adapter clearly helps. Known to the test harness and to
 * the fitting in adapter-file.ts (as training data), never to a validator, which sees reference data.
 */
export function taskDelta(): Float64Array {
  if (cachedDelta === undefined) {
    const rng = new Rng(TASK_SEED);
    const u = gaussianMatrix(rng, MODEL_INPUT_DIM, TASK_RANK, 1 / Math.sqrt(MODEL_INPUT_DIM));
    const v = gaussianMatrix(rng, TASK_RANK, MODEL_OUTPUT_DIM, 1 / Math.sqrt(TASK_RANK));
    // Entries of U·V then have variance TASK_RANK · (1/d) · (1/TASK_RANK) = 1/d, like W's.
    const delta = matmul(u, v, MODEL_INPUT_DIM, TASK_RANK, MODEL_OUTPUT_DIM, new Float64Array(MODEL_INPUT_DIM * MODEL_OUTPUT_DIM));
    for (let i = 0; i < delta.length; i++) delta[i] = Math.fround(delta[i]!);
    cachedDelta = delta;
  }
  return cachedDelta;
}

/** W* = W + Δ, the model the task wants. */
export function targetWeights(): Float64Array {
  const base = baseModel().weights;
  const delta = taskDelta();
  const target = new Float64Array(base.length);
  for (let i = 0; i < target.length; i++) target[i] = base[i]! + delta[i]!;
  return target;
}

/**
 * Draws `count` task examples: standard normal inputs and targets x·W* + N(0, noise²). Used for the
 * reference corpus (fixed seed) and for an adapter's training set (the adapter's seed).
 */
export function sampleTask(rng: Rng, count: number, noiseStddev: number): { inputs: Float64Array; targets: Float64Array } {
  const d = MODEL_INPUT_DIM;
  const k = MODEL_OUTPUT_DIM;
  const target = targetWeights();
  const inputs = gaussianMatrix(rng, count, d, 1);
  const targets = new Float64Array(count * k);
  for (let n = 0; n < count; n++) {
    forward(target, d, k, inputs, n * d, targets, n * k);
    for (let j = 0; j < k; j++) targets[n * k + j] = Math.fround(targets[n * k + j]! + gaussian(rng) * noiseStddev);
  }
  return { inputs, targets };
}

/** Index of the largest of `values[offset..offset+count]` (the first one on a tie). */
export function argmax(values: Float64Array, offset: number, count: number): number {
  let best = 0;
  for (let j = 1; j < count; j++) if (values[offset + j]! > values[offset + best]!) best = j;
  return best;
}

/** Euclidean norm of `values[offset..offset+count]`. */
export function norm(values: Float64Array, offset: number, count: number): number {
  let sum = 0;
  for (let j = 0; j < count; j++) sum += values[offset + j]! * values[offset + j]!;
  return Math.sqrt(sum);
}

/**
 * The shipped reference data. The probe bound is twice the largest output norm found in the
 * regression corpus, scaled to the probes' amplitude: a validator derives it from the data it holds,
 * and a model whose output on a plain input is more than twice anything the task ever asks for fails
 * the screen.
 */
export function referenceData(): ReferenceData {
  if (cachedReference === undefined) {
    const d = MODEL_INPUT_DIM;
    const k = MODEL_OUTPUT_DIM;
    const rng = new Rng(REFERENCE_SEED);
    const regression = sampleTask(rng.fork('regression'), REFERENCE_REGRESSION_ITEMS, TARGET_NOISE_STDDEV);
    const qa = sampleTask(rng.fork('qa'), REFERENCE_QA_ITEMS, 0);
    const qaAnswers = new Int32Array(REFERENCE_QA_ITEMS);
    for (let n = 0; n < REFERENCE_QA_ITEMS; n++) qaAnswers[n] = argmax(qa.targets, n * k, k);
    // Probes at the typical norm of an input (√d), one per basis direction and sign.
    const amplitude = Math.sqrt(d);
    const probeInputs = new Float64Array(2 * d * d);
    for (let t = 0; t < d; t++) {
      probeInputs[2 * t * d + t] = amplitude;
      probeInputs[(2 * t + 1) * d + t] = -amplitude;
    }
    let ratioMax = 0;
    for (let n = 0; n < REFERENCE_REGRESSION_ITEMS; n++) {
      ratioMax = Math.max(ratioMax, norm(regression.targets, n * k, k) / norm(regression.inputs, n * d, d));
    }
    const probeOutputNormMax = 2 * ratioMax * amplitude;
    cachedReference = {
      regressionInputs: regression.inputs,
      regressionTargets: regression.targets,
      qaInputs: qa.inputs,
      qaAnswers,
      probeInputs,
      probeOutputNormMax,
    };
  }
  return cachedReference;
}
