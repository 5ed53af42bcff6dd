/**
 * Entry point of a replica process: `node dist/runtime/replica-main.js '<ReplicaSpec as JSON>'`.
 *
 * Under a launcher (an IPC channel is present) it listens, reports its port, dials the addresses the
 * launcher sends, and starts when told. Standalone (one replica of a multi-machine cluster, every
 * port fixed in the cluster file) it dials the cluster file's addresses and starts once every link is
 * up; SIGTERM prints its stats as one JSON line and exits.
 */
import { ReplicaHost, type ReplicaSpec } from './replica-host.js';
import { exitWithParent, type FromReplica, type ToReplica } from './ipc.js';

const spec = JSON.parse(process.argv[2] ?? process.env['ORRERY_REPLICA_SPEC'] ?? 'null') as ReplicaSpec | null;
if (spec === null) {
  process.stderr.write('replica-main: give the replica spec as the first argument (JSON)\n');
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
if (process.send !== undefined) {
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
      case 'stop':
        void host.stop().then(() => process.exit(0));
        break;
    }
  });
} else {
  log(`listening on port ${port}`);
  await host.connectPeers(spec.cluster.map((e) => ({ id: e.id, host: e.host, port: e.port })), 120_000);
  host.start();
  log('every peer link is up; started');
  process.removeAllListeners('SIGTERM');
  process.on('SIGTERM', () => {
    process.stdout.write(`${JSON.stringify(host.stats())}\n`);
    void host.stop().then(() => process.exit(0));
  });
}
