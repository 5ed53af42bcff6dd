/**
 * The operator's side of an `admin` connection (`orrery admin`): connect to one live replica, say
 * `hello` as an admin, send one request, read one checked `answer` frame, close.
 *
 * A status request is answered at once. A remove request is answered once the replica has learned a
 * configuration without the process (the answer carries it), or at once with the reason the replica
 * refused. Everything the replica sends is checked like any other frame (runtime/schema.ts).
 */
import { connect } from 'node:net';
import { FRAME_BYTES_MAX_DEFAULT } from './codec.js';
import { frameCheck, plainMessageCheck, type AdminAnswer, type AdminRequest, type WireFrame } from './schema.js';
import { BatchWriter, readFrames } from './transport.js';

export interface AdminAddress {
  readonly host: string;
  readonly port: number;
}

/** Why an admin request got no answer: the replica was unreachable, closed the connection, or was too slow. */
export class AdminUnreachable extends Error {
  override name = 'AdminUnreachable';
  constructor(
    message: string,
    /** True when the replica was reached but did not answer in time. */
    readonly timedOut = false,
  ) {
    super(message);
  }
}

const check = frameCheck(plainMessageCheck, 64);

/** Sends `request` to the replica at `address`; resolves with its answer or rejects with {@link AdminUnreachable}. */
export function adminRequest(address: AdminAddress, request: AdminRequest, timeoutMs: number): Promise<AdminAnswer> {
  const where = `${address.host}:${address.port}`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.host, port: address.port });
    let settled = false;
    const finish = (outcome: AdminAnswer | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const timer = setTimeout(() => finish(new AdminUnreachable(`${where} gave no answer within ${timeoutMs} ms`, true)), timeoutMs);
    socket.once('error', (error: NodeJS.ErrnoException) => finish(new AdminUnreachable(`cannot reach ${where} (${error.code ?? error.message})`)));
    socket.once('connect', () => {
      const writer = new BatchWriter({ socket, kind: 'admin', field: 'requests', describe: () => where, log: () => undefined, frameBytesMax: FRAME_BYTES_MAX_DEFAULT });
      writer.sendFrame({ k: 'hello', role: 'admin', id: 0 });
      writer.sendFrame({ k: 'admin', request });
    });
    readFrames({
      socket,
      describe: () => where,
      check,
      log: (line) => finish(new AdminUnreachable(line)),
      onFrame: (value) => {
        const frame = value as WireFrame;
        if (frame.k !== 'answer') return `a replica answers an admin with an answer frame, not '${frame.k}'`;
        finish(frame.answer);
        return undefined;
      },
      onClose: () => finish(new AdminUnreachable(`${where} closed the connection without answering`)),
    });
  });
}
