/**
 * Entry point of the artifact store process of the adapter register's runtime, started by the
 * deployment launcher with an IPC channel: `node dist/runtime/store-main.js '<StoreSpec as JSON>'`.
 * It serves the directory over HTTP (artifact-store.ts), reports `listening` with its port, answers
 * `stats`, and exits on `stop`, SIGTERM or when its launcher goes away.
 */
import { ArtifactStore, StoreServer, type StoreServerOptions, type StoreStats } from './artifact-store.js';
import { exitWithParent } from './ipc.js';

/** What the store process needs to start. */
export interface StoreSpec extends StoreServerOptions {
  readonly directory: string;
}

/** Launcher → store. */
export type ToStore = { readonly t: 'stats' } | { readonly t: 'stop' };

/** Store → launcher. */
export type FromStore = { readonly t: 'listening'; readonly port: number } | { readonly t: 'stats'; readonly stats: StoreStats } | { readonly t: 'error'; readonly message: string };

const spec = JSON.parse(process.argv[2] ?? 'null') as StoreSpec | null;
if (spec === null || process.send === undefined) {
  process.stderr.write('store-main: runs under the deployment launcher, with the store spec as the first argument (JSON)\n');
  process.exit(2);
}
const log = (line: string) => process.stderr.write(`[store] ${line}\n`);
const send = (message: FromStore) => process.send?.(message);
const server = new StoreServer(new ArtifactStore(spec.directory), spec, log);
exitWithParent(() => server.close());
process.on('uncaughtException', (error) => {
  log(`fatal: ${error.stack ?? error.message}`);
  send({ t: 'error', message: error.message });
  process.exit(1);
});

try {
  send({ t: 'listening', port: await server.listen() });
} catch (error) {
  send({ t: 'error', message: `cannot listen on ${spec.host}:${spec.port} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` });
  process.exit(1);
}
process.on('message', (raw) => {
  const message = raw as ToStore;
  if (message.t === 'stats') send({ t: 'stats', stats: server.stats() });
  else if (message.t === 'stop') void server.close().then(() => process.exit(0));
});
