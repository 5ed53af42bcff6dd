/**
 * A worker thread that hashes artifacts (run by piscina, see digest-pool.ts). The bytes arrive in a
 * SharedArrayBuffer, so nothing is copied either way and the calling thread keeps exactly the bytes
 * that were hashed.
 */
import { createHash } from 'node:crypto';

/** One artifact to hash. */
export interface DigestTask {
  readonly bytes: Uint8Array;
}

export default function digestTask(task: DigestTask): string {
  return createHash('sha256').update(task.bytes).digest('hex');
}
