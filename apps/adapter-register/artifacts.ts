/**
 * The adapter register's artifacts in one import: the base model and reference data (model.ts), the
 * adapter file format and the adapters Orrery makes (adapter-file.ts), and the reference validation
 * suite (validation.ts).
 */
export { baseModel, forward, MODEL_INPUT_DIM, MODEL_OUTPUT_DIM, referenceData, TASK_RANK, type BaseModel, type ReferenceData } from './model.js';
export {
  adaptedWeights,
  AdapterFormatError,
  adapterFileBytes,
  encodeAdapter,
  makeAdapter,
  parseAdapter,
  regressionKind,
  REGRESSION_KINDS,
  type Adapter,
  type RegressionKind,
} from './adapter-file.js';
export { MSE_RATIO_MAX, QA_ACCURACY_MIN, validateAdapter, validateParsedAdapter, type ValidationReport } from './validation.js';
