/**
 * Little-endian binary writing and bounds-checked reading over one ArrayBuffer, for the executor
 * shards' task and answer buffers (runtime/tempo-shard-codec.ts). The writer grows its buffer by
 * doubling and hands it over whole, so the buffer can be transferred to another thread without a
 * copy. The reader refuses anything out of bounds or malformed with a {@link BinaryFormatError}
 * naming what it was reading and where, instead of returning stale bytes.
 *
 * Strings are a u32 byte length and UTF-8 bytes. Keys and values are mostly short ASCII, so both
 * sides take a plain loop for those (a `TextEncoder`/`TextDecoder` call costs 80–100 ns however short
 * the string; the loops 15–40 ns, measured on this machine) and the text codecs for the rest.
 */

/** A buffer that does not follow the layout it claims. */
export class BinaryFormatError extends Error {
  override name = 'BinaryFormatError';
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
/** Strings up to this many bytes are decoded by the ASCII loop when they are ASCII. */
const SHORT_STRING_BYTES = 32;

/** Appends little-endian fields to a growable ArrayBuffer. */
export class ByteWriter {
  private buffer: ArrayBuffer;
  private view: DataView;
  private bytes: Uint8Array;
  /** Bytes written. */
  offset = 0;

  constructor(capacityBytes: number) {
    this.buffer = new ArrayBuffer(capacityBytes);
    this.view = new DataView(this.buffer);
    this.bytes = new Uint8Array(this.buffer);
  }

  /** Makes room for `bytes` more bytes. */
  reserve(bytes: number): void {
    const needed = this.offset + bytes;
    if (needed <= this.buffer.byteLength) return;
    let capacity = Math.max(64, this.buffer.byteLength * 2);
    while (capacity < needed) capacity *= 2;
    const grown = new ArrayBuffer(capacity);
    const grownBytes = new Uint8Array(grown);
    grownBytes.set(this.bytes.subarray(0, this.offset));
    this.buffer = grown;
    this.view = new DataView(grown);
    this.bytes = grownBytes;
  }

  /** The bytes written, over the writer's own buffer (to transfer); the writer must not be used after. */
  finish(): Uint8Array {
    return new Uint8Array(this.buffer, 0, this.offset);
  }

  /** The bytes written so far, over the writer's own buffer; the writer starts over on a new buffer of `nextCapacityBytes`. */
  take(nextCapacityBytes: number): Uint8Array {
    const written = new Uint8Array(this.buffer, 0, this.offset);
    this.buffer = new ArrayBuffer(nextCapacityBytes);
    this.view = new DataView(this.buffer);
    this.bytes = new Uint8Array(this.buffer);
    this.offset = 0;
    return written;
  }

  // The fixed-size writers below do not reserve: callers reserve once per record.
  u8(value: number): void {
    this.bytes[this.offset] = value;
    this.offset += 1;
  }

  u16(value: number): void {
    this.view.setUint16(this.offset, value, true);
    this.offset += 2;
  }

  u32(value: number): void {
    this.view.setUint32(this.offset, value, true);
    this.offset += 4;
  }

  f64(value: number): void {
    this.view.setFloat64(this.offset, value, true);
    this.offset += 8;
  }

  /** Overwrites a u32 written earlier (a header field known only at the end). */
  u32At(at: number, value: number): void {
    this.view.setUint32(at, value, true);
  }

  f64At(at: number, value: number): void {
    this.view.setFloat64(at, value, true);
  }

  /** A u32 byte length and the UTF-8 bytes; reserves for itself. */
  string(value: string): void {
    const length = value.length;
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    this.reserve(4 + length * 3);
    const start = this.offset + 4;
    const bytes = this.bytes;
    let at = start;
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) {
        at = start + encoder.encodeInto(value, bytes.subarray(start)).written;
        break;
      }
      bytes[at++] = code;
    }
    this.view.setUint32(this.offset, at - start, true);
    this.offset = at;
  }
}

/** Reads little-endian fields from a byte range, refusing reads past its end. */
export class ByteReader {
  private readonly view: DataView;
  private readonly bytes: Uint8Array;
  /** Read position, relative to the range's start. */
  offset = 0;
  readonly length: number;

  constructor(
    range: Uint8Array,
    /** Names the buffer in errors, e.g. `executor task`. */
    private readonly what: string,
  ) {
    this.view = new DataView(range.buffer, range.byteOffset, range.byteLength);
    this.bytes = range;
    this.length = range.byteLength;
  }

  /** Throws unless `bytes` more bytes are there to read; `field` names what is being read. */
  need(bytes: number, field: string): void {
    if (this.offset + bytes > this.length) this.fail(`${field} needs ${bytes} bytes at offset ${this.offset}, but the buffer ends at ${this.length}`);
  }

  fail(problem: string): never {
    throw new BinaryFormatError(`malformed ${this.what}: ${problem}`);
  }

  // The fixed-size readers below do not check bounds: callers check once per group with `need`.
  u8(): number {
    const value = this.bytes[this.offset]!;
    this.offset += 1;
    return value;
  }

  u16(): number {
    const value = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return value;
  }

  u32(): number {
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  f64(): number {
    const value = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return value;
  }

  /** An f64 that must be an integer in 0..2^53−1 (dots, rifls, timestamps). */
  safeInteger(field: string): number {
    const value = this.f64();
    if (!Number.isSafeInteger(value) || value < 0) this.fail(`${field} at offset ${this.offset - 8} is ${value}, not an integer in 0..2^53-1`);
    return value;
  }

  /** A string written by {@link ByteWriter.string}; checks bounds itself and refuses invalid UTF-8. */
  string(field: string): string {
    this.need(4, field);
    const length = this.u32();
    this.need(length, field);
    const start = this.offset;
    this.offset += length;
    const bytes = this.bytes;
    if (length <= SHORT_STRING_BYTES) {
      let ascii = true;
      for (let i = start; i < start + length; i++) {
        if (bytes[i]! >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) return shortAscii(bytes, start, length);
    }
    try {
      return strictDecoder.decode(bytes.subarray(start, start + length));
    } catch {
      return this.fail(`${field} at offset ${start} is not valid UTF-8`);
    }
  }
}

/** An ASCII string of at most {@link SHORT_STRING_BYTES} bytes, without a text-decoder call. */
function shortAscii(bytes: Uint8Array, at: number, length: number): string {
  switch (length) {
    case 0:
      return '';
    case 1:
      return String.fromCharCode(bytes[at]!);
    case 2:
      return String.fromCharCode(bytes[at]!, bytes[at + 1]!);
    case 3:
      return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!);
    case 4:
      return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
    case 5:
      return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!, bytes[at + 4]!);
    case 6:
      return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!, bytes[at + 4]!, bytes[at + 5]!);
    case 7:
      return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!, bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!);
    case 8:
      return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!, bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    default: {
      let value = '';
      for (let i = at; i < at + length; i++) value += String.fromCharCode(bytes[i]!);
      return value;
    }
  }
}
