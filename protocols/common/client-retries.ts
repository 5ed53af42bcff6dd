/**
 * Client retries in the leaderless protocols: which dot carries each client's latest command, as far
 * as this process knows, so that a retry is not proposed again under a new dot.
 *
 * A client that times out sends the same command (same rifl) to another process. Proposing it there
 * under a fresh dot is safe (executors run a rifl once), but it is not live when the first dot needs
 * a recovery: a recovery that registers a command for the first time reports every conflicting
 * command registered so far, newer ones included, so the recovered dot depends on the retries made
 * while it waited; those need recoveries of their own (their quorums hold the same crashed process),
 * which pull in the retries made meanwhile, and so on. As long as each client retries faster than a
 * recovery completes (client timeout ≲ twice the recovery timeout) this chain of uncommitted
 * dependencies never ends and nothing executes (docs/faults-and-checking.md, "Liveness at every
 * timeout setting").
 *
 * So a process proposes a rifl at most once per dot it knows of: a submit whose rifl is already
 * carried by a dot whose payload this process holds (it will commit it or recover it, and the
 * replica answers the client once it executes) starts nothing. Only a dot committed as a no-op (a
 * recovery that found no payload) no longer counts: its command will not run, and the retry gets a
 * new dot. The number of dots per rifl is then at most n, so while clients wait the set of dots is
 * finite and every recovery chain ends.
 *
 * Clients are closed-loop (one command outstanding, core/replica.ts), so one entry per client is
 * enough: a client never retries an older rifl than its latest.
 */
import { riflClient, type ClientId, type Dot, type Rifl } from '../../core/ids.js';

interface Carrier {
  readonly rifl: Rifl;
  readonly dot: Dot;
  /** Committed as a no-op: this dot will never run the command. */
  noop: boolean;
}

/** Per client, the dot known here that carries its latest command. */
export class ClientRetries {
  private readonly latest = new Map<ClientId, Carrier>();

  /** This process holds the payload of `dot`, whose command is `rifl`. */
  learn(rifl: Rifl, dot: Dot): void {
    const client = riflClient(rifl);
    const known = this.latest.get(client);
    if (known === undefined || known.rifl < rifl || (known.rifl === rifl && known.noop)) this.latest.set(client, { rifl, dot, noop: false });
  }

  /** `dot`, whose payload was `rifl`, was committed as a no-op here: it will not run the command. */
  committedNoop(rifl: Rifl, dot: Dot): void {
    const known = this.latest.get(riflClient(rifl));
    if (known !== undefined && known.dot === dot) known.noop = true;
  }

  /** A dot known here that carries `rifl` and may still run it, or undefined: then a submit needs a new dot. */
  carrierOf(rifl: Rifl): Dot | undefined {
    const known = this.latest.get(riflClient(rifl));
    return known !== undefined && known.rifl === rifl && !known.noop ? known.dot : undefined;
  }
}
