/**
 * The artifact store of the adapter register's runtime: content-addressed adapter files, served over
 * HTTP on loopback (or any address) by one store process, fetched by validators and inference nodes.
 *
 * On disk: one directory, one file per artifact, named by the SHA-256 of its bytes (64 lowercase hex
 * digits). A file is written to a temporary name in the same directory, flushed to disk, then renamed
 * over its final name, so a reader sees either no file or the whole file, never a partial one, even if
 * the store dies mid-write; the same bytes always land at the same name, so writes are idempotent.
 *
 * Why a store process serving HTTP rather than a directory every node reads: in a deployment,
 * validators and inference servers run on other machines than the store (an object store or an
 * artifact registry behind HTTP), so artifacts cross a network and can be damaged on the way or at
 * rest. Serving them over a socket exercises that path — transfer, size limits, partial reads — and a
 * shared directory would hide it. The store checks the digest of every upload (a PUT whose bytes do
 * not match its name is refused), but readers must not trust it: each consumer verifies the digest
 * against the register before it uses a byte (validators and inference nodes do, see adapter-agents.ts).
 *
 * Fault injection, for tests and `orrery app adapter-register --runtime`: {@link corruptStoredArtifact}
 * flips a byte of a file at rest (bit rot, a bad disk), and `corruptInferenceDownloads` makes the
 * server flip one byte of the first N responses to inference nodes (a damaged transfer).
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';

/** Largest artifact the store accepts and a client downloads, in bytes (LoRA adapters are megabytes). */
export const ARTIFACT_STORE_BYTES_MAX = 256 * 1024 * 1024;

const DIGEST_PATTERN = /^[0-9a-f]{64}$/;

/** SHA-256 of `bytes` as 64 lowercase hex digits (node:crypto; for the store process and tests). */
export function sha256File(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A directory of artifacts named by their SHA-256. */
export class ArtifactStore {
  private temporaries = 0;

  constructor(readonly directory: string) {
    mkdirSync(directory, { recursive: true });
  }

  /** Path of the artifact `digest` (whether or not it exists). */
  pathOf(digest: string): string {
    if (!DIGEST_PATTERN.test(digest)) throw new Error(`not an artifact digest (64 lowercase hex digits): '${digest.slice(0, 80)}'`);
    return join(this.directory, digest);
  }

  has(digest: string): boolean {
    return existsSync(this.pathOf(digest));
  }

  /**
   * Stores `bytes` under `expectedDigest`, atomically; refuses (throws) when the bytes hash to
   * something else. Returns false when the artifact was already there (nothing written).
   */
  put(expectedDigest: string, bytes: Uint8Array): boolean {
    const path = this.pathOf(expectedDigest);
    const actual = sha256File(bytes);
    if (actual !== expectedDigest) throw new Error(`the bytes hash to ${actual}, not ${expectedDigest}`);
    if (existsSync(path)) return false;
    const temporary = join(this.directory, `.incoming-${process.pid}-${this.temporaries++}`);
    const fd = openSync(temporary, 'wx');
    try {
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
    return true;
  }

  /** The bytes stored as `digest`, as they are on disk (not re-verified: consumers verify), or undefined. */
  read(digest: string): Buffer | undefined {
    const path = this.pathOf(digest);
    if (!existsSync(path)) return undefined;
    return readFileSync(path);
  }

  /** {@link read} without blocking the event loop (the store's server reads this way). */
  async readAsync(digest: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.pathOf(digest));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Size in bytes of the stored artifact, or undefined. */
  size(digest: string): number | undefined {
    const path = this.pathOf(digest);
    return existsSync(path) ? statSync(path).size : undefined;
  }
}

/** Fault injection: flips one byte of the stored file `digest` in place (rot at rest). */
export function corruptStoredArtifact(directory: string, digest: string): void {
  const path = new ArtifactStore(directory).pathOf(digest);
  const bytes = readFileSync(path);
  const at = bytes.length >> 1;
  bytes[at] = bytes[at]! ^ 0xff;
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, at, 1, at);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Who is downloading, sent as request headers (for the store's figures and its fault injection). */
export interface Requester {
  readonly role: 'validator' | 'inference' | 'release-manager';
  readonly id: number;
}

export interface StoreServerOptions {
  readonly host: string;
  /** 0 for an ephemeral port. */
  readonly port: number;
  /** Flip one byte of the first N responses to inference nodes (a damaged transfer). */
  readonly corruptInferenceDownloads: number;
}

/** What the store served. */
export interface StoreStats {
  readonly uploads: number;
  readonly refusedUploads: number;
  readonly downloads: number;
  readonly downloadsByRole: Readonly<Record<string, number>>;
  readonly notFound: number;
  readonly corruptedTransfers: number;
  readonly bytesServed: number;
}

/**
 * The store's HTTP interface:
 * - `PUT /artifacts/<sha256>`: body = the artifact; 201 stored, 200 already there, 400 digest
 *   mismatch or malformed name, 413 too large;
 * - `GET /artifacts/<sha256>`: 200 with the bytes, 404 unknown, 400 malformed name.
 */
export class StoreServer {
  private readonly server: Server;
  private uploads = 0;
  private refusedUploads = 0;
  private downloads = 0;
  private readonly downloadsByRole: Record<string, number> = {};
  private notFound = 0;
  private corruptedTransfers = 0;
  private bytesServed = 0;

  constructor(
    private readonly store: ArtifactStore,
    private readonly options: StoreServerOptions,
    private readonly log: (line: string) => void,
  ) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        const address = this.server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : this.options.port);
      });
    });
  }

  stats(): StoreStats {
    return {
      uploads: this.uploads,
      refusedUploads: this.refusedUploads,
      downloads: this.downloads,
      downloadsByRole: { ...this.downloadsByRole },
      notFound: this.notFound,
      corruptedTransfers: this.corruptedTransfers,
      bytesServed: this.bytesServed,
    };
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const match = /^\/artifacts\/([^/?]*)$/.exec(req.url ?? '');
    if (match === null) return this.answer(res, 404, 'no such resource; use /artifacts/<sha256>');
    const digest = match[1]!;
    if (!DIGEST_PATTERN.test(digest)) return this.answer(res, 400, 'an artifact name is its SHA-256: 64 lowercase hex digits');
    if (req.method === 'GET') return this.get(req, res, digest);
    if (req.method === 'PUT') return this.put(req, res, digest);
    res.setHeader('allow', 'GET, PUT');
    this.answer(res, 405, `method ${req.method ?? '?'} not allowed; use GET or PUT`);
  }

  private get(req: IncomingMessage, res: ServerResponse, digest: string): void {
    this.store.readAsync(digest).then(
      (bytes) => this.serve(req, res, digest, bytes),
      (error: Error) => this.answer(res, 500, `cannot read artifact ${digest}: ${error.message}`),
    );
  }

  private serve(req: IncomingMessage, res: ServerResponse, digest: string, bytes: Buffer | undefined): void {
    if (bytes === undefined) {
      this.notFound++;
      return this.answer(res, 404, `no artifact ${digest}`);
    }
    const role = String(req.headers['x-orrery-role'] ?? 'unknown');
    this.downloads++;
    this.downloadsByRole[role] = (this.downloadsByRole[role] ?? 0) + 1;
    if (role === 'inference' && this.corruptedTransfers < this.options.corruptInferenceDownloads && bytes.length > 0) {
      this.corruptedTransfers++;
      const at = bytes.length >> 2;
      bytes[at] = bytes[at]! ^ 0x01;
      this.log(`fault injection: corrupted the transfer of ${digest.slice(0, 12)} to inference node ${String(req.headers['x-orrery-id'] ?? '?')}`);
    }
    this.bytesServed += bytes.length;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
    res.end(bytes);
  }

  private put(req: IncomingMessage, res: ServerResponse, digest: string): void {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (!(declared >= 1 && declared <= ARTIFACT_STORE_BYTES_MAX)) {
      this.refusedUploads++;
      req.resume();
      return this.answer(res, 413, `an upload needs a content-length from 1 to ${ARTIFACT_STORE_BYTES_MAX} bytes`);
    }
    const body = Buffer.allocUnsafe(declared);
    let received = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      if (received + chunk.length > declared) {
        refused = true;
        this.refusedUploads++;
        this.answer(res, 400, `the body exceeds its content-length ${declared}`);
        return;
      }
      chunk.copy(body, received);
      received += chunk.length;
    });
    req.on('end', () => {
      if (refused) return;
      if (received !== declared) {
        this.refusedUploads++;
        return this.answer(res, 400, `received ${received} of ${declared} bytes`);
      }
      try {
        const stored = this.store.put(digest, body);
        this.uploads++;
        this.answer(res, stored ? 201 : 200, stored ? 'stored' : 'already stored');
      } catch (error) {
        this.refusedUploads++;
        this.answer(res, 400, `refused: ${(error as Error).message}`);
      }
    });
  }

  private answer(res: ServerResponse, status: number, text: string): void {
    if (res.headersSent) return;
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
    res.end(`${text}\n`);
  }
}

/** An HTTP request with a body, answered with status and body; rejects on network errors or `timeoutMs`. */
function exchange(
  url: URL,
  method: 'GET' | 'PUT',
  headers: Record<string, string | number>,
  body: Uint8Array | undefined,
  timeoutMs: number,
  onResponse: (res: IncomingMessage, settle: (error: Error | undefined) => void) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error: Error | undefined) => {
      if (settled) return;
      settled = true;
      if (error === undefined) resolve();
      else reject(error);
    };
    const req = request(url, { method, headers, timeout: timeoutMs, agent: false }, (res) => onResponse(res, settle));
    req.on('timeout', () => req.destroy(new Error(`no answer from the store within ${timeoutMs} ms`)));
    req.on('error', (error) => settle(error));
    req.end(body);
  });
}

function readText(res: IncomingMessage, done: (text: string) => void): void {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    if (text.length < 4096) text += chunk;
  });
  res.on('end', () => done(text.trim()));
}

/** Uploads `bytes` to the store at `baseUrl` under their SHA-256; resolves with the digest. */
export async function uploadArtifact(baseUrl: string, bytes: Uint8Array, timeoutMs = 10_000): Promise<string> {
  const digest = sha256File(bytes);
  await exchange(new URL(`/artifacts/${digest}`, baseUrl), 'PUT', { 'content-length': bytes.length, 'x-orrery-role': 'release-manager' }, bytes, timeoutMs, (res, settle) => {
    readText(res, (text) => settle(res.statusCode === 200 || res.statusCode === 201 ? undefined : new Error(`the store refused the upload (${res.statusCode}): ${text}`)));
  });
  return digest;
}

/**
 * Downloads artifact `digest` of `expectedSize` bytes into a SharedArrayBuffer (so a worker thread
 * can hash it without a copy while this thread keeps it). Refuses a response whose length differs
 * from the size the register recorded before buffering it. The bytes are NOT verified here.
 */
export function downloadArtifact(baseUrl: string, digest: string, expectedSize: number, requester: Requester, timeoutMs = 10_000): Promise<Uint8Array> {
  if (!(Number.isInteger(expectedSize) && expectedSize >= 1 && expectedSize <= ARTIFACT_STORE_BYTES_MAX)) {
    return Promise.reject(new Error(`artifact size ${expectedSize} outside 1..${ARTIFACT_STORE_BYTES_MAX}`));
  }
  const bytes = new Uint8Array(new SharedArrayBuffer(expectedSize));
  const headers = { 'x-orrery-role': requester.role, 'x-orrery-id': requester.id };
  return exchange(new URL(`/artifacts/${digest}`, baseUrl), 'GET', headers, undefined, timeoutMs, (res, settle) => {
    if (res.statusCode !== 200) {
      readText(res, (text) => settle(new Error(`the store answered ${res.statusCode}: ${text}`)));
      return;
    }
    const declared = Number(res.headers['content-length'] ?? NaN);
    if (declared !== expectedSize) {
      res.destroy();
      settle(new Error(`the store sends ${declared} bytes, the register says ${expectedSize}`));
      return;
    }
    let received = 0;
    res.on('data', (chunk: Buffer) => {
      if (received + chunk.length > expectedSize) {
        res.destroy();
        settle(new Error(`the store sent more than ${expectedSize} bytes`));
        return;
      }
      bytes.set(chunk, received);
      received += chunk.length;
    });
    res.on('end', () => settle(received === expectedSize ? undefined : new Error(`the transfer ended after ${received} of ${expectedSize} bytes`)));
    res.on('error', (error) => settle(error));
  }).then(() => bytes);
}
