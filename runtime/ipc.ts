/**
 * Messages between the launcher and its children over the Node IPC channel (JSON). A child exits
 * when the channel disconnects (its launcher is gone) as well as on SIGTERM, so no child outlives
 * its launcher.
 */
import type { ClientReport } from './client-host.js';
import type { ReplicaSample, ReplicaStats } from './replica-host.js';

/** Launcher → replica. */
export type ToReplica =
  | { readonly t: 'peers'; readonly addresses: ReadonlyArray<{ id: number; host: string; port: number }>; readonly timeoutMs: number }
  | { readonly t: 'start' }
  | { readonly t: 'stats' }
  | { readonly t: 'sample' }
  | { readonly t: 'stop' };

/** Replica → launcher. */
export type FromReplica =
  | { readonly t: 'listening'; readonly port: number }
  | { readonly t: 'connected' }
  | { readonly t: 'stats'; readonly stats: ReplicaStats }
  | { readonly t: 'sample'; readonly sample: ReplicaSample }
  | { readonly t: 'error'; readonly message: string };

/** Launcher → client process. */
export type ToClient = { readonly t: 'go' } | { readonly t: 'stop' };

/** Client process → launcher. */
export type FromClient = { readonly t: 'ready' } | { readonly t: 'done'; readonly report: ClientReport } | { readonly t: 'error'; readonly message: string };

/** Makes this child exit when its parent goes away or asks it to stop. */
export function exitWithParent(cleanup: () => Promise<void> | void): void {
  let exiting = false;
  const exit = (code: number) => {
    if (exiting) return;
    exiting = true;
    const timer = setTimeout(() => process.exit(code), 1000);
    timer.unref();
    Promise.resolve()
      .then(cleanup)
      .finally(() => process.exit(code));
  };
  process.on('disconnect', () => exit(0));
  process.on('SIGTERM', () => exit(0));
  process.on('SIGINT', () => exit(0));
}
