/**
 * Sockets for the runtime: a reader that turns a socket's bytes into checked frames, and a writer
 * that batches items per event-loop turn into one frame, optionally delays them (WAN emulation) and
 * respects back-pressure.
 *
 * Reader: every frame is length-checked, decoded with the wire codec and shape-checked before it is
 * handed on; an empty, oversized, malformed, unknown or truncated frame is refused with one log line
 * and that connection alone is closed. Nothing thrown by the codec or the checks escapes.
 *
 * Writer: items queued during one turn leave as one frame on the next `setImmediate` (so everything a
 * process sends one peer while handling one batch travels together). With a delay, each item waits
 * `delayMs` after it was queued, in queue order (FIFO per link). When the socket's buffer is full
 * (`write` returned false) the writer keeps batching until 'drain'; past `queuedItemsMax` items it
 * closes the link with an error naming the limit, rather than growing without bound.
 */
import type { Socket } from 'node:net';
import { connectionCodec, FrameError, FrameReader, frame, FRAME_BYTES_MAX_DEFAULT } from './codec.js';
import type { Check } from './schema.js';

/** Log sink; one line per call. */
export type Log = (line: string) => void;

/** Monotonic milliseconds for the runtime (protocols get this as `now`). */
export function nowMs(): number {
  return performance.now();
}

export interface ReaderOptions {
  readonly socket: Socket;
  /** Who is at the other end, for log lines ("peer 2", "client 7", "127.0.0.1:5312"). */
  describe(): string;
  readonly check: Check;
  readonly frameBytesMax?: number;
  /** A frame that passed every check. Returning a string refuses it (and closes the connection). */
  onFrame(value: unknown): string | void;
  /** The connection closed, for any reason. */
  onClose?(): void;
  readonly log: Log;
}

/** Reads checked frames from `socket` (see the file comment); returns a counter of refused frames. */
export function readFrames(options: ReaderOptions): { refused: () => number } {
  const { socket, log } = options;
  const reader = new FrameReader(options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT);
  const codec = connectionCodec();
  let refused = 0;
  let closed = false;
  const refuse = (why: string) => {
    if (closed) return;
    refused++;
    closed = true;
    log(`refused a frame from ${options.describe()}: ${why}; closing that connection`);
    socket.destroy();
  };
  socket.on('data', (chunk: Buffer) => {
    if (closed) return;
    let payloads: Buffer[];
    try {
      payloads = reader.push(chunk);
    } catch (error) {
      refuse(error instanceof FrameError ? error.message : String(error));
      return;
    }
    for (const payload of payloads) {
      if (closed) return;
      let value: unknown;
      try {
        value = codec.decode(payload);
      } catch (error) {
        refuse(`malformed frame (${(error as Error).message.split('\n')[0]})`);
        return;
      }
      const problem = options.check(value, 'frame');
      if (problem !== null) {
        refuse(problem);
        return;
      }
      const rejected = options.onFrame(value);
      if (typeof rejected === 'string') {
        refuse(rejected);
        return;
      }
    }
  });
  socket.on('end', () => {
    if (!closed && reader.pendingBytes > 0) refuse(`truncated frame: ${reader.describeTruncation()}`);
  });
  socket.on('error', () => undefined); // 'close' follows; resets from dying peers are expected faults
  socket.on('close', () => {
    closed = true;
    options.onClose?.();
  });
  return { refused: () => refused };
}

export interface WriterOptions {
  readonly socket: Socket;
  /** Frame kind, e.g. 'msgs', and the field that carries the batch, e.g. 'msgs'. */
  readonly kind: string;
  readonly field: string;
  /** WAN emulation: every item waits this long after it was queued (0 = none). */
  readonly delayMs?: number;
  /** Limit on items waiting in this writer (delayed, batched or blocked by back-pressure). */
  readonly queuedItemsMax?: number;
  readonly describe: () => string;
  readonly log: Log;
  /** Called when the socket's buffer fills up (true) and drains again (false). */
  readonly onBlocked?: (blocked: boolean) => void;
  /** Limit on one frame's payload; a larger batch is split, a larger single item refused. */
  readonly frameBytesMax?: number;
  /**
   * Peer links: the sender's configuration number, read when a batch is encoded and carried as the
   * frame's `e` (configurations only grow, so it is at least the one each message was sent in).
   */
  readonly epoch?: () => number;
}

/** Default limit on items waiting in one writer. */
export const QUEUED_ITEMS_MAX_DEFAULT = 4_000_000;

/** Batches items per event-loop turn into frames on one socket (see the file comment). */
export class BatchWriter {
  private batch: unknown[] = [];
  private flushScheduled = false;
  private blocked = false;
  private closed = false;
  /** Delayed items and the time each may leave, FIFO. */
  private readonly delayed: unknown[] = [];
  private readonly dueMs: number[] = [];
  private delayedHead = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly delayMs: number;
  private readonly queuedItemsMax: number;
  private readonly frameBytesMax: number;
  private readonly codec = connectionCodec();
  framesSent = 0;
  itemsSent = 0;
  bytesSent = 0;

  constructor(private readonly options: WriterOptions) {
    this.delayMs = options.delayMs ?? 0;
    this.queuedItemsMax = options.queuedItemsMax ?? QUEUED_ITEMS_MAX_DEFAULT;
    this.frameBytesMax = options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT;
    options.socket.on('drain', () => {
      if (!this.blocked) return;
      this.blocked = false;
      this.options.onBlocked?.(false);
      this.scheduleFlush();
    });
    options.socket.on('close', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Items waiting in this writer. */
  get queued(): number {
    return this.batch.length + this.delayed.length - this.delayedHead;
  }

  /** Queues one item; it leaves with this turn's batch (after the link delay, if any). */
  send(item: unknown): void {
    if (this.closed) return;
    if (this.queued >= this.queuedItemsMax) {
      this.options.log(`link to ${this.options.describe()} has ${this.queued} items waiting, the limit queuedItemsMax=${this.queuedItemsMax}; closing it`);
      this.options.socket.destroy();
      this.close();
      return;
    }
    if (this.delayMs > 0) {
      this.delayed.push(item);
      this.dueMs.push(nowMs() + this.delayMs);
      if (this.timer === undefined) this.armTimer();
      return;
    }
    this.batch.push(item);
    this.scheduleFlush();
  }

  /** Sends one frame at once, outside batching (hello, heartbeats). */
  sendFrame(value: unknown): void {
    if (this.closed) return;
    this.write(value);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // A link that dies while blocked must not keep its host's clients paused forever.
    if (this.blocked) {
      this.blocked = false;
      this.options.onBlocked?.(false);
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.batch = [];
  }

  private armTimer(): void {
    const head = this.dueMs[this.delayedHead];
    if (head === undefined) return;
    // Node timers have millisecond resolution and fire late rather than early: aim half a
    // millisecond early and release what is due within a millisecond, so the error averages out.
    this.timer = setTimeout(() => this.release(), Math.max(0, Math.floor(head - nowMs() - 0.5)));
  }

  private release(): void {
    this.timer = undefined;
    if (this.closed) return;
    const now = nowMs();
    while (this.delayedHead < this.delayed.length && this.dueMs[this.delayedHead]! <= now + 1) {
      this.batch.push(this.delayed[this.delayedHead]);
      this.delayedHead++;
    }
    if (this.delayedHead > 1024 && this.delayedHead * 2 > this.delayed.length) {
      this.delayed.splice(0, this.delayedHead);
      this.dueMs.splice(0, this.delayedHead);
      this.delayedHead = 0;
    }
    this.flush();
    this.armTimer();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.closed || this.blocked || this.batch.length === 0) return;
    const items = this.batch;
    this.batch = [];
    this.writeItems(items);
  }

  /** One frame for `items`, split in halves while the payload exceeds frameBytesMax. */
  private writeItems(items: unknown[]): void {
    const epoch = this.options.epoch;
    const payload = this.codec.encode(epoch === undefined ? { k: this.options.kind, [this.options.field]: items } : { k: this.options.kind, e: epoch(), [this.options.field]: items });
    if (payload.length > this.frameBytesMax) {
      if (items.length === 1) {
        this.options.log(`dropped one item for ${this.options.describe()}: ${payload.length} bytes exceed the limit frameBytesMax=${this.frameBytesMax}`);
        return;
      }
      const half = items.length >> 1;
      this.writeItems(items.slice(0, half));
      this.writeItems(items.slice(half));
      return;
    }
    this.itemsSent += items.length;
    this.writePayload(payload);
  }

  private write(value: unknown): void {
    this.writePayload(this.codec.encode(value));
  }

  private writePayload(payload: Uint8Array): void {
    const bytes = frame(payload);
    this.framesSent++;
    this.bytesSent += bytes.length;
    if (!this.options.socket.write(bytes) && !this.blocked) {
      this.blocked = true;
      this.options.onBlocked?.(true);
    }
  }
}
