/**
 * SHA-256 of artifacts off the main thread. A validator or an inference node must hash every artifact
 * before it uses a byte of it; a LoRA adapter of tens of megabytes takes tens of milliseconds to hash,
 * during which an inference node's event loop would stop serving requests. The pool hashes on a piscina
 * worker thread instead, reading the downloaded bytes in place from their SharedArrayBuffer (no copy),
 * while the main thread keeps serving; the bytes the main thread then loads are the very bytes that
 * were hashed (nothing writes to the buffer after the download completes).
 */
import { Piscina } from 'piscina';
import type { DigestTask } from './digest-worker.js';
import { runtimeEntry } from './paths.js';

/** The verdict on one artifact. */
export type DigestCheck = { readonly ok: true; readonly digest: string } | { readonly ok: false; readonly digest: string; readonly reason: string };

export class DigestPool {
  private readonly pool: Piscina;
  /** Artifacts hashed, and their bytes. */
  hashed = 0;
  bytesHashed = 0;

  constructor(threads = 1) {
    this.pool = new Piscina({ filename: runtimeEntry('digest-worker'), minThreads: threads, maxThreads: threads, idleTimeout: Number.MAX_SAFE_INTEGER });
  }

  /** Hashes `bytes` (which must live in a SharedArrayBuffer) on a worker thread. */
  async digest(bytes: Uint8Array): Promise<string> {
    if (!(bytes.buffer instanceof SharedArrayBuffer)) throw new TypeError('DigestPool.digest takes bytes in a SharedArrayBuffer (no copy to the worker)');
    const task: DigestTask = { bytes };
    const digest = (await this.pool.run(task)) as string;
    this.hashed++;
    this.bytesHashed += bytes.length;
    return digest;
  }

  /** Hashes `bytes` and compares with the digest the register holds. */
  async verify(bytes: Uint8Array, expected: string): Promise<DigestCheck> {
    const digest = await this.digest(bytes);
    if (digest === expected) return { ok: true, digest };
    return { ok: false, digest, reason: `digest mismatch: the bytes hash to ${digest.slice(0, 16)}…, the register says ${expected.slice(0, 16)}…` };
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
