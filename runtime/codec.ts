/**
 * The wire format: length-prefixed binary frames, `[u32 big-endian payload length][payload]`, and the
 * codec that turns a frame payload into a value and back.
 *
 * One codec serves every connection (peers and clients), chosen by measurement (`npm run
 * bench:codec`, figures in docs/runtime.md): msgpackr with records in sequential mode. A record's
 * structure (its field names) is written inline the first time it appears on a connection and
 * referred to by a small id afterwards, which makes frames about 2.3× smaller than plain msgpack,
 * with round trips as fast or faster (up to 2× on batched frames) and 1.5–3× faster than JSON. The price is state per connection: frames
 * must be decoded in the order they were encoded, by a decoder that saw every earlier frame. TCP
 * gives that order, and a connection is closed at its first bad frame, so the two ends never
 * disagree about the structures.
 *
 * The reader refuses an oversized length prefix before buffering the payload, so a peer cannot make a
 * process allocate more than `frameBytesMax` for one frame.
 */
import { Packr } from 'msgpackr';

/** Encodes one value into a frame payload and back. Decoding throws on malformed bytes. */
export interface Codec {
  readonly name: string;
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

// Records (shared structures) are off: every frame decodes on its own, and a map decodes to a plain object.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });

/** msgpackr, stateless per frame: the runtime's codec. */
export const MSGPACK_CODEC: Codec = {
  name: 'msgpackr',
  encode: (value) => packr.pack(value),
  decode: (bytes) => packr.unpack(bytes),
};

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** JSON over UTF-8: the baseline the codec benchmark compares against. */
export const JSON_CODEC: Codec = {
  name: 'json',
  encode: (value) => encoder.encode(JSON.stringify(value)),
  decode: (bytes) => JSON.parse(decoder.decode(bytes)) as unknown,
};

/**
 * A fresh codec for one direction of one connection (msgpackr records, sequential mode): use one for
 * everything a writer encodes, and another for everything the matching reader decodes, in order.
 */
export function connectionCodec(): Codec {
  const packr = new Packr({ useRecords: true, sequential: true, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });
  return { name: 'msgpackr-records', encode: (value) => packr.pack(value), decode: (bytes) => packr.unpack(bytes) };
}

/** Bytes of the length prefix. */
export const FRAME_HEADER_BYTES = 4;
/** Default limit on one frame's payload. */
export const FRAME_BYTES_MAX_DEFAULT = 16 * 1024 * 1024;

/** `[u32 length][payload]` as one buffer. */
export function frame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** Why a byte stream was refused. */
export class FrameError extends Error {
  override name = 'FrameError';
}

/**
 * Splits a byte stream into frame payloads. `push` returns the complete payloads so far and throws a
 * {@link FrameError} for an empty or oversized frame; `pendingBytes` tells whether the stream ended
 * inside a frame (a truncated frame).
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private expected = -1;

  constructor(private readonly frameBytesMax: number = FRAME_BYTES_MAX_DEFAULT) {}

  /** Bytes received that do not form a complete frame yet. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Describes where the stream stopped inside a frame (for the truncated-frame log line). */
  describeTruncation(): string {
    if (this.expected < 0) return `the connection ended inside a frame header (${this.buffered} of ${FRAME_HEADER_BYTES} bytes)`;
    return `the connection ended after ${this.buffered} of ${this.expected} payload bytes`;
  }

  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) return out;
        const length = this.peekHeader();
        if (length === 0) throw new FrameError('empty frame (length 0)');
        if (length > this.frameBytesMax) {
          throw new FrameError(`oversized frame: ${length} bytes exceeds the limit frameBytesMax=${this.frameBytesMax}`);
        }
        this.take(FRAME_HEADER_BYTES);
        this.expected = length;
      }
      if (this.buffered < this.expected) return out;
      out.push(this.take(this.expected));
      this.expected = -1;
    }
  }

  private peekHeader(): number {
    const first = this.chunks[0]!;
    if (first.length >= FRAME_HEADER_BYTES) return first.readUInt32BE(0);
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined.readUInt32BE(0);
  }

  private take(bytes: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length === bytes) {
      this.chunks.shift();
      out = first;
    } else if (first.length > bytes) {
      out = first.subarray(0, bytes);
      this.chunks[0] = first.subarray(bytes);
    } else {
      const joined = Buffer.concat(this.chunks);
      out = joined.subarray(0, bytes);
      this.chunks = joined.length > bytes ? [joined.subarray(bytes)] : [];
    }
    this.buffered -= bytes;
    return out;
  }
}
