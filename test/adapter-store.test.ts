import { request } from 'node:http';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeAdapter } from '../apps/adapter-register/adapter-file.js';
import { ArtifactStore, corruptStoredArtifact, downloadArtifact, sha256File, StoreServer, uploadArtifact } from '../runtime/artifact-store.js';
import { DigestPool } from '../runtime/digest-pool.js';

const good = makeAdapter('good', 11);
const other = makeAdapter('good', 12);
const goodDigest = sha256File(good);

function put(url: string, digest: string, body: Uint8Array): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(`/artifacts/${digest}`, url), { method: 'PUT', headers: { 'content-length': body.length } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: text.trim() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the artifact store directory', () => {
  test('stores a file under its SHA-256, atomically and idempotently, and refuses bytes that hash to another name', () => {
    const directory = mkdtempSync(join(tmpdir(), 'orrery-store-'));
    const store = new ArtifactStore(directory);
    expect(store.put(goodDigest, good)).toBe(true);
    expect(store.put(goodDigest, good)).toBe(false);
    expect(Array.from(store.read(goodDigest)!)).toEqual(Array.from(good));
    expect(store.size(goodDigest)).toBe(good.length);
    expect(() => store.put(goodDigest, other)).toThrow(`the bytes hash to ${sha256File(other)}, not ${goodDigest}`);
    expect(() => store.pathOf('../etc/passwd')).toThrow(/not an artifact digest/);
    // No temporary file is left behind: only the artifact, under its digest.
    expect(readdirSync(directory)).toEqual([goodDigest]);
    corruptStoredArtifact(directory, goodDigest);
    expect(sha256File(store.read(goodDigest)!)).not.toBe(goodDigest);
  });
});

describe('the artifact store over HTTP', () => {
  const directory = mkdtempSync(join(tmpdir(), 'orrery-store-http-'));
  const logs: string[] = [];
  const server = new StoreServer(new ArtifactStore(directory), { host: '127.0.0.1', port: 0, corruptInferenceDownloads: 1 }, (line) => logs.push(line));
  let url = '';
  beforeAll(async () => {
    url = `http://127.0.0.1:${await server.listen()}`;
  });
  afterAll(() => server.close());

  test('uploads and downloads the same bytes, into shared memory', async () => {
    expect(await uploadArtifact(url, good)).toBe(goodDigest);
    const bytes = await downloadArtifact(url, goodDigest, good.length, { role: 'validator', id: 1 });
    expect(bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(bytes)).toEqual(Array.from(good));
  });

  test('refuses an upload whose bytes do not match its name, and malformed names', async () => {
    const mismatch = await put(url, goodDigest.replace(/^./, goodDigest[0] === 'a' ? 'b' : 'a'), good);
    expect(mismatch.status).toBe(400);
    expect(mismatch.text).toMatch(/^refused: the bytes hash to [0-9a-f]{64}, not [0-9a-f]{64}$/);
    const badName = await put(url, 'not-a-digest', good);
    expect(badName.status).toBe(400);
    expect(badName.text).toBe('an artifact name is its SHA-256: 64 lowercase hex digits');
  });

  test('a download fails with the reason: unknown artifact, or a size other than the register says', async () => {
    const unknown = sha256File(other);
    await expect(downloadArtifact(url, unknown, other.length, { role: 'validator', id: 1 })).rejects.toThrow(`the store answered 404: no artifact ${unknown}`);
    await expect(downloadArtifact(url, goodDigest, 100, { role: 'validator', id: 1 })).rejects.toThrow(`the store sends ${good.length} bytes, the register says 100`);
  });

  test('fault injection damages the first transfer to an inference node only', async () => {
    const first = await downloadArtifact(url, goodDigest, good.length, { role: 'inference', id: 2 });
    const second = await downloadArtifact(url, goodDigest, good.length, { role: 'inference', id: 3 });
    expect(sha256File(first)).not.toBe(goodDigest);
    expect(sha256File(second)).toBe(goodDigest);
    expect(server.stats()).toMatchObject({ corruptedTransfers: 1, refusedUploads: 1, notFound: 1 });
    expect(logs).toEqual([`fault injection: corrupted the transfer of ${goodDigest.slice(0, 12)} to inference node 2`]);
  });
});

describe('digest verification on a worker thread', () => {
  test('accepts the bytes the register names and refuses others with both digests', async () => {
    const pool = new DigestPool(1);
    try {
      const shared = new Uint8Array(new SharedArrayBuffer(good.length));
      shared.set(good);
      expect(await pool.verify(shared, goodDigest)).toEqual({ ok: true, digest: goodDigest });
      shared[5] = shared[5]! ^ 1;
      const refused = await pool.verify(shared, goodDigest);
      expect(refused.ok).toBe(false);
      expect(refused.digest).toBe(sha256File(shared));
      expect(refused.ok ? '' : refused.reason).toBe(`digest mismatch: the bytes hash to ${refused.digest.slice(0, 16)}…, the register says ${goodDigest.slice(0, 16)}…`);
      await expect(pool.digest(good)).rejects.toThrow('DigestPool.digest takes bytes in a SharedArrayBuffer');
      expect(pool.hashed).toBe(2);
    } finally {
      await pool.close();
    }
  });
});
