/**
 * The receiving end of `orrery calibrate`'s transport measurement (cli/calibrate-transport.ts): a
 * process that reads frames exactly as a replica or a client does — `readFrames` with the frame
 * reader, the per-connection codec and the protocol's shape checks — and does nothing else, so its
 * CPU time is the receive side of the transport alone.
 *
 * `node dist/runtime/calibration-sink.js PROTOCOL N` under a parent with an IPC channel: answers
 * `listening` with its port; `mark` with its CPU time so far (user + system, µs) and the frames,
 * items (messages, commands or replies) and socket reads (`data` events) received so far.
 */
import { createServer } from 'node:net';
import { exitWithParent } from './ipc.js';
import { frameCheck, plainMessageCheck, protocolMessageCheck, type WireFrame } from './schema.js';
import { readFrames } from './transport.js';

const protocol = process.argv[2] ?? 'tempo';
const n = Number(process.argv[3] ?? 3);
const check = frameCheck(protocolMessageCheck(protocol, n) ?? plainMessageCheck, n);
let frames = 0;
let items = 0;
let reads = 0;
let refused = 0;

const server = createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('data', () => void reads++);
  readFrames({
    socket,
    describe: () => 'calibration sender',
    check,
    log: (line) => {
      refused++;
      process.stderr.write(`[calibration-sink] ${line}\n`);
    },
    onFrame: (value) => {
      frames++;
      const frame = value as WireFrame;
      if (frame.k === 'msgs') items += frame.msgs.length;
      else if (frame.k === 'submit') items += frame.cmds.length;
      else if (frame.k === 'reply') items += frame.replies.length;
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
  if (message.t !== 'mark') return;
  const cpu = process.cpuUsage();
  process.send?.({ t: 'mark', cpuUs: cpu.user + cpu.system, frames, items, reads, refused });
});
