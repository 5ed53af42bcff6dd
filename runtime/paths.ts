/**
 * Where the compiled entry points of child processes and worker threads live. Children always run
 * the compiled JavaScript in dist/ (`npm run build` / `npm test` produce it), also when the parent is
 * a TypeScript test running from source.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../core/invariant.js';

/** Absolute path of `dist/runtime/<name>.js`. */
export function runtimeEntry(name: string): string {
  const here = fileURLToPath(import.meta.url);
  // From dist/runtime/paths.js the sibling is right here; from runtime/paths.ts it is under dist/.
  const url = /[\\/]dist[\\/]runtime[\\/][^\\/]+$/.test(here) ? new URL(`./${name}.js`, import.meta.url) : new URL(`../dist/runtime/${name}.js`, import.meta.url);
  const path = fileURLToPath(url);
  if (!existsSync(path)) throw new UsageError(`runtime entry point ${path} is missing; build first with 'npm run build'`);
  return path;
}
