/**
 * The reference artifacts the scenario runs by default: adapters made by apps/adapter-register's
 * factory (a tiny linear model's low-rank adapters, ORAD v1 files) and judged by its reference
 * validation suite. Making an adapter fits it by gradient descent (tens of milliseconds), so the
 * factory is memoised per (kind, seed) for the life of the process.
 */
import { makeAdapter } from '../../apps/adapter-register/adapter-file.js';
import { validateAdapter } from '../../apps/adapter-register/validation.js';
import { MemoisedFactory, type AdapterFactory, type ValidationSuite } from './artifacts.js';

/** makeAdapter, memoised. */
export const REFERENCE_FACTORY: AdapterFactory = new MemoisedFactory({ make: makeAdapter });

/** validateAdapter. */
export const REFERENCE_SUITE: ValidationSuite = { validate: validateAdapter };
