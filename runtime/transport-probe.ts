/**
 * The raw transport ceiling, for `npm run bench:runtime`: a sink process that reads frames from one
 * connection exactly as a replica does (frame reader, per-connection codec, the protocol's shape
 * checks) and does no protocol work, so the sender measures what the sockets and the codec alone
 * sustain. `node dist/runtime/transport-probe.js` under a parent with an IPC channel: it answers
 * `listening` with its port, and `count` with the messages and frames received so far.
 */
import { createServer } from 'node:net';
import { exitWithParent } from './ipc.js';
import { frameCheck, protocolMessageCheck, type WireFrame } from './schema.js';
import { readFrames } from './transport.js';

let messages = 0;
let frames = 0;
const check = frameCheck(protocolMessageCheck('tempo', 3)!, 3);
const server = createServer((socket) => {
  socket.setNoDelay(true);
  readFrames({
    socket,
    describe: () => 'probe sender',
    check,
    log: (line) => process.stderr.write(`[probe] ${line}\n`),
    onFrame: (value) => {
      frames++;
      const frame = value as WireFrame;
      if (frame.k === 'msgs') messages += frame.msgs.length;
      return undefined;
    },
  });
});
exitWithParent(() => void server.close());
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ t: 'listening', port: typeof address === 'object' && address !== null ? address.port : 0 });
});
process.on('message', (message: { t: string }) => {
  if (message.t === 'count') process.send?.({ t: 'count', messages, frames });
});
