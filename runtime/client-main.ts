/**
 * Entry point of a client process: `node dist/runtime/client-main.js '<ClientGroupSpec as JSON>'`,
 * started by the launcher with an IPC channel. It connects, says `ready`, runs on `go`, and sends its
 * report with `done`; `stop` ends issuing early. It exits with its launcher.
 */
import { ClientGroup, type ClientGroupSpec } from './client-host.js';
import { exitWithParent, type FromClient, type ToClient } from './ipc.js';

const spec = JSON.parse(process.argv[2] ?? 'null') as ClientGroupSpec | null;
if (spec === null || process.send === undefined) {
  process.stderr.write('client-main: runs under the launcher, with the client group spec as the first argument (JSON)\n');
  process.exit(2);
}
const log = (line: string) => process.stderr.write(`[clients ${spec.group}] ${line}\n`);
const group = new ClientGroup(spec, log);
const send = (message: FromClient) => process.send?.(message);
exitWithParent(() => group.close());
process.on('uncaughtException', (error) => {
  log(`fatal: ${error.stack ?? error.message}`);
  send({ t: 'error', message: error.message });
  process.exit(1);
});

try {
  await group.connect();
} catch (error) {
  send({ t: 'error', message: `cannot connect: ${(error as Error).message}` });
  process.exit(1);
}
process.on('message', (raw) => {
  const message = raw as ToClient;
  if (message.t === 'go') {
    void group.run().then((report) => {
      send({ t: 'done', report });
    });
  } else if (message.t === 'stop') group.stopIssuing();
});
send({ t: 'ready' });
