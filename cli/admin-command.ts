/**
 * `orrery admin`: an operator's requests to a live cluster (docs/runtime.md, "Membership and removal").
 *
 * - `orrery admin remove P --cluster FILE` (or `--replica HOST:PORT[,…]`): asks the first reachable
 *   replica other than P to remove process P from the configuration, waits until the new configuration
 *   is decided, prints it in one line and exits 0. A refusal (P is not a member, too few members would
 *   remain) or no reachable member: one line, exit 2. A replica that was removed itself refuses too;
 *   the admin then asks the next address.
 * - `orrery admin status`: each replica's configuration (epoch and members), one line per replica;
 *   exit 0 when at least one answered.
 */
import { UsageError } from '../core/invariant.js';
import { AdminUnreachable, adminRequest, type AdminAddress } from '../runtime/admin-client.js';
import { readClusterFile } from '../runtime/cluster.js';
import type { AdminAnswer } from '../runtime/schema.js';
import { intFlag, stringFlag } from './options.js';

type Argv = Record<string, unknown>;

export const ADMIN_ACTIONS = ['remove', 'status'] as const;

/** `orrery admin`'s options, described for yargs. */
export const ADMIN_FLAGS = {
  cluster: { type: 'string', describe: "the cluster file the replicas run from (as 'orrery run --cluster')" },
  replica: { type: 'string', describe: 'replica addresses HOST:PORT, comma-separated (instead of --cluster, e.g. for a loopback run)' },
  'timeout-ms': { type: 'string', describe: 'how long to wait for an answer (a removal: for the new configuration to be decided) [default: 10000]' },
} as const;

interface Target extends AdminAddress {
  /** The process id, when a cluster file names it. */
  readonly id: number | undefined;
}

function targetsFrom(argv: Argv): Target[] {
  const clusterFile = stringFlag(argv, 'cluster', undefined);
  const replicas = stringFlag(argv, 'replica', undefined);
  if ((clusterFile === undefined) === (replicas === undefined)) throw new UsageError('name the replicas with either --cluster FILE or --replica HOST:PORT[,HOST:PORT…]');
  if (clusterFile !== undefined) {
    const cluster = readClusterFile(clusterFile);
    const ephemeral = cluster.find((e) => e.port === 0);
    if (ephemeral !== undefined) throw new UsageError(`cluster file ${clusterFile} gives process ${ephemeral.id} port 0; an admin needs fixed ports (use --replica HOST:PORT for a loopback run)`);
    return cluster.map((e) => ({ id: e.id, host: e.host, port: e.port }));
  }
  return replicas!.split(',').map((text) => {
    const trimmed = text.trim();
    const colon = trimmed.lastIndexOf(':');
    const host = trimmed.slice(0, colon);
    const port = Number(trimmed.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--replica must list addresses HOST:PORT, comma-separated (got '${text}')`);
    return { id: undefined, host, port };
  });
}

const describeTarget = (t: Target) => `${t.id === undefined ? 'replica' : `replica ${t.id}`} at ${t.host}:${t.port}`;
const describeConfiguration = (answer: Extract<AdminAnswer, { ok: true }>) => `configuration ${answer.epoch}: members ${answer.members.join(', ')}`;

/** Runs `orrery admin <action> [process]`. */
export async function runAdminCommand(argv: Argv, print: (text: string) => void): Promise<void> {
  const action = argv['action'];
  if (!(ADMIN_ACTIONS as readonly unknown[]).includes(action)) throw new UsageError(`name an admin action: ${ADMIN_ACTIONS.join(', ')} (got '${String(action)}')`);
  const targets = targetsFrom(argv);
  const timeoutMs = intFlag(argv, 'timeout-ms', 10_000, 1, 3_600_000);
  if (action === 'status') {
    if (argv['process'] !== undefined) throw new UsageError("'orrery admin status' takes no process id");
    const answers = await Promise.all(targets.map((t) => adminRequest(t, { op: 'status' }, timeoutMs).catch((error: Error) => error)));
    const failures = answers.filter((answer): answer is Error => answer instanceof Error);
    if (failures.length === answers.length) throw new UsageError(`no replica answered: ${failures.map((e) => e.message).join('; ')}`);
    answers.forEach((answer, i) => {
      const target = targets[i]!;
      if (answer instanceof Error) return print(`${describeTarget(target)}: unreachable (${answer.message})`);
      if (!answer.ok) return print(`replica ${answer.id} at ${target.host}:${target.port}: ${answer.reason}`);
      print(`replica ${answer.id} at ${target.host}:${target.port}: ${describeConfiguration(answer)}${answer.removed ? ' (this replica was removed: it serves no one)' : ''}`);
    });
    return;
  }
  const processText = argv['process'];
  const process = Number(processText);
  if (processText === undefined || !Number.isInteger(process) || process < 1) throw new UsageError(`'orrery admin remove' needs the id of the process to remove (got '${String(processText)}')`);
  // Ask anyone but the process itself: it may be the one that is gone.
  const asked = targets.filter((t) => t.id !== process);
  const unreachable: string[] = [];
  for (const target of asked) {
    let answer: AdminAnswer;
    try {
      answer = await adminRequest(target, { op: 'remove', process }, timeoutMs);
    } catch (error) {
      if (!(error instanceof AdminUnreachable)) throw error;
      // Reached but undecided: asking another member would only start a competing proposal.
      if (error.timedOut) throw new UsageError(`no configuration without process ${process} was decided within ${timeoutMs} ms (asked ${describeTarget(target)}; are a majority of the members up?)`);
      unreachable.push(error.message);
      continue;
    }
    // A replica that was removed itself cannot propose: ask the next one.
    if (!answer.ok && answer.removed) {
      unreachable.push(`replica ${answer.id} was removed from the configuration`);
      continue;
    }
    if (!answer.ok) throw new UsageError(`replica ${answer.id} at ${target.host}:${target.port} refused to remove process ${process}: ${answer.reason}`);
    print(`process ${process} removed: ${describeConfiguration(answer)} (decided; answered by replica ${answer.id} at ${target.host}:${target.port})`);
    return;
  }
  throw new UsageError(`no replica could take the request to remove process ${process}: ${unreachable.join('; ')}`);
}
