/**
 * Entry point of a replica process started by the launcher with an IPC channel:
 * `node dist/runtime/replica-main.js '<ReplicaSpec as JSON>'`. It listens, reports its port, dials
 * the addresses the launcher sends, starts when told, answers `stats` and `sample`, and exits on `stop`, SIGTERM
 * or when its launcher goes away. (A replica on another machine runs under `orrery run --serve`.)
 */
import { ReplicaHost, type ReplicaSpec } from './replica-host.js';
import { exitWithParent, type FromReplica, type ToReplica } from './ipc.js';

const spec = JSON.parse(process.argv[2] ?? 'null') as ReplicaSpec | null;
if (spec === null || process.send === undefined) {
  process.stderr.write('replica-main: runs under the launcher, with the replica spec as the first argument (JSON)\n');
  process.exit(2);
}
const log = (line: string) => process.stderr.write(`[replica ${spec.id}] ${line}\n`);
const host = new ReplicaHost(spec, log);
const send = (message: FromReplica) => process.send?.(message);

exitWithParent(() => host.stop());
process.on('uncaughtException', (error) => {
  log(`fatal: ${error.stack ?? error.message}`);
  send({ t: 'error', message: error.message });
  process.exit(1);
});

let port: number;
try {
  port = await host.listen();
} catch (error) {
  const entry = spec.cluster[spec.id - 1]!;
  const message = `cannot listen on ${entry.bind}:${entry.port} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  log(message);
  send({ t: 'error', message });
  process.exit(1);
}
send({ t: 'listening', port });
process.on('message', (raw) => {
  const message = raw as ToReplica;
  switch (message.t) {
    case 'peers':
      host.connectPeers(message.addresses, message.timeoutMs).then(
        () => send({ t: 'connected' }),
        (error: Error) => send({ t: 'error', message: error.message }),
      );
      break;
    case 'start':
      host.start();
      break;
    case 'stats':
      send({ t: 'stats', stats: host.stats() });
      break;
    case 'sample':
      send({ t: 'sample', sample: host.sample() });
      break;
    case 'stop':
      void host.stop().then(() => process.exit(0));
      break;
  }
});
