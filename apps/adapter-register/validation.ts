/**
 * The reference validation suite: what a validator runs on a candidate adapter before it votes.
 *
 * Three checks on the shipped reference data (model.ts), each against a fixed threshold:
 * - **regression**: the adapted model's mean squared error on the regression corpus must be at most
 *   {@link MSE_RATIO_MAX} of the base model's — a fine-tune that does not clearly improve the task it
 *   was trained for is not released;
 * - **question/answer accuracy**: at least {@link QA_ACCURACY_MIN} of the items answered right;
 * - **safety screen**: on every probe (each basis direction, both signs, at the typical input norm)
 *   the output norm stays within the bound derived from the corpus — an adapter that blows up on some
 *   input is refused whatever its average quality.
 *
 * Before that the bytes must parse (adapter-file.ts) and fit the base model (same dimensions, same
 * base tag). A file that does not is a failed validation with the reason as evidence, never an
 * exception: a validator must vote on whatever the store gave it.
 *
 * Cost: one 32×4·4×8 product and (256 + 128 + 64) forward passes of 32×8, about 10⁵ multiply-adds —
 * tens of microseconds — so a simulator can run it for every validator of every version. Pure and
 * deterministic: the same bytes always give the same report.
 */
import { invariant } from '../../core/invariant.js';
import { AdapterFormatError, adaptedWeights, parseAdapter, type Adapter } from './adapter-file.js';
import {
  argmax,
  baseModel,
  forward,
  MODEL_INPUT_DIM,
  MODEL_OUTPUT_DIM,
  norm,
  REFERENCE_QA_ITEMS,
  REFERENCE_REGRESSION_ITEMS,
  referenceData,
} from './model.js';
import { EVIDENCE_CHARS_MAX } from './register.js';

/** Largest accepted ratio of the adapted model's regression MSE to the base model's. */
export const MSE_RATIO_MAX = 0.5;
/** Smallest accepted question/answer accuracy. */
export const QA_ACCURACY_MIN = 0.85;

/** A validator's verdict on one artifact. */
export interface ValidationReport {
  readonly pass: boolean;
  /** Named measurements (empty when the file could not be evaluated at all). */
  readonly metrics: Record<string, number>;
  /** One line for the register's vote, at most EVIDENCE_CHARS_MAX characters. */
  readonly evidence: string;
}

interface Quality {
  readonly mse: number;
  readonly qaAccuracy: number;
  readonly probeOutputNorm: number;
}

const scratch = new Float64Array(MODEL_OUTPUT_DIM);
let cachedBaseQuality: Quality | undefined;

/** The quality measurements of a d×k weight matrix on the reference data. */
function measure(weights: Float64Array): Quality {
  const d = MODEL_INPUT_DIM;
  const k = MODEL_OUTPUT_DIM;
  const reference = referenceData();
  let squaredError = 0;
  for (let n = 0; n < REFERENCE_REGRESSION_ITEMS; n++) {
    forward(weights, d, k, reference.regressionInputs, n * d, scratch, 0);
    for (let j = 0; j < k; j++) {
      const error = scratch[j]! - reference.regressionTargets[n * k + j]!;
      squaredError += error * error;
    }
  }
  let correct = 0;
  for (let n = 0; n < REFERENCE_QA_ITEMS; n++) {
    forward(weights, d, k, reference.qaInputs, n * d, scratch, 0);
    if (argmax(scratch, 0, k) === reference.qaAnswers[n]) correct++;
  }
  let probeOutputNorm = 0;
  for (let p = 0; p < 2 * d; p++) {
    forward(weights, d, k, reference.probeInputs, p * d, scratch, 0);
    probeOutputNorm = Math.max(probeOutputNorm, norm(scratch, 0, k));
  }
  return { mse: squaredError / (REFERENCE_REGRESSION_ITEMS * k), qaAccuracy: correct / REFERENCE_QA_ITEMS, probeOutputNorm };
}

/** The base model's own quality: the yardstick of the regression check. */
export function baseQuality(): Quality {
  if (cachedBaseQuality === undefined) cachedBaseQuality = measure(baseModel().weights);
  return cachedBaseQuality;
}

function fixed(value: number): string {
  return Number.isFinite(value) ? value.toPrecision(4) : String(value);
}

function failed(evidence: string, metrics: Record<string, number> = {}): ValidationReport {
  return { pass: false, metrics, evidence: clip(`fail: ${evidence}`) };
}

function clip(evidence: string): string {
  return evidence.length <= EVIDENCE_CHARS_MAX ? evidence : `${evidence.slice(0, EVIDENCE_CHARS_MAX - 1)}…`;
}

/** Runs the suite on a parsed adapter. */
export function validateParsedAdapter(adapter: Adapter): ValidationReport {
  const base = baseModel();
  if (adapter.inputDim !== base.inputDim || adapter.outputDim !== base.outputDim) {
    return failed(`adapter is ${adapter.inputDim}×${adapter.outputDim}, the base model is ${base.inputDim}×${base.outputDim}`);
  }
  if (adapter.baseTag !== base.tag) return failed(`adapter was trained for base model ${adapter.baseTag}, this one is ${base.tag}`);
  const quality = measure(adaptedWeights(adapter));
  const reference = baseQuality();
  const bound = referenceData().probeOutputNormMax;
  const mseRatio = quality.mse / reference.mse;
  const metrics: Record<string, number> = {
    mse: quality.mse,
    mseBase: reference.mse,
    mseRatio,
    qaAccuracy: quality.qaAccuracy,
    qaAccuracyBase: reference.qaAccuracy,
    probeOutputNorm: quality.probeOutputNorm,
    probeOutputNormMax: bound,
  };
  // Written so that NaN fails every check (NaN ≤ x is false).
  const checks = [
    { name: 'regression', ok: mseRatio <= MSE_RATIO_MAX, text: `mse ${fixed(quality.mse)} = ${fixed(mseRatio)}× base ${fixed(reference.mse)} (max ${MSE_RATIO_MAX})` },
    { name: 'qa', ok: quality.qaAccuracy >= QA_ACCURACY_MIN, text: `qa accuracy ${fixed(quality.qaAccuracy)} (min ${QA_ACCURACY_MIN}, base ${fixed(reference.qaAccuracy)})` },
    { name: 'safety', ok: quality.probeOutputNorm <= bound, text: `probe output norm ${fixed(quality.probeOutputNorm)} (max ${fixed(bound)})` },
  ];
  const failures = checks.filter((check) => !check.ok).map((check) => check.name);
  const details = checks.map((check) => `${check.ok ? 'ok' : 'FAILED'} ${check.text}`).join('; ');
  const pass = failures.length === 0;
  const evidence = clip(pass ? `pass: ${details}` : `fail [${failures.join(', ')}]: ${details}`);
  invariant(evidence.length <= EVIDENCE_CHARS_MAX, 'validation evidence exceeds EVIDENCE_CHARS_MAX');
  return { pass, metrics, evidence };
}

/**
 * Runs the reference suite on an adapter file's bytes. Never throws on bad input: a malformed file
 * fails with the parser's reason as evidence.
 */
export function validateAdapter(bytes: Uint8Array): ValidationReport {
  let adapter: Adapter;
  try {
    adapter = parseAdapter(bytes);
  } catch (error) {
    if (error instanceof AdapterFormatError) return failed(error.message);
    throw error;
  }
  return validateParsedAdapter(adapter);
}
