/**
 * Strict shape checks for everything a runtime process decodes from a socket, so that a malformed or
 * unknown frame is refused at the edge (one log line, that connection closed) and never reaches
 * protocol code, where a missing field would throw or corrupt state.
 *
 * A check returns null when the value fits, else a short description of the first problem with its
 * path (`msgs[3].cmd.keys[0].ops`). Checks are closures built once per process.
 */
import { MAX_PROCESSES } from '../core/config.js';

/** Null when `value` fits, else what is wrong at `path`. */
export type Check = (value: unknown, path: string) => string | null;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An integer in [min, max]. */
export function int(min = 0, max = Number.MAX_SAFE_INTEGER): Check {
  return (v, path) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? null : `${path}: expected an integer from ${min} to ${max}`);
}

/** A string of at most `lengthMax` characters. */
export function str(lengthMax = 1 << 20): Check {
  return (v, path) => (typeof v === 'string' && v.length <= lengthMax ? null : `${path}: expected a string of at most ${lengthMax} characters`);
}

/** Exactly `expected`. */
export function literal(expected: string | number | boolean): Check {
  return (v, path) => (v === expected ? null : `${path}: expected ${JSON.stringify(expected)}`);
}

/** An array of at most `lengthMax` items, each fitting `item`. */
export function array(item: Check, lengthMax: number): Check {
  return (v, path) => {
    if (!Array.isArray(v)) return `${path}: expected an array`;
    if (v.length > lengthMax) return `${path}: ${v.length} items exceed the limit of ${lengthMax}`;
    for (let i = 0; i < v.length; i++) {
      const problem = item(v[i], `${path}[${i}]`);
      if (problem !== null) return problem;
    }
    return null;
  };
}

/** An object with exactly these fields (extra fields are refused too: the protocols never send them). */
export function object(fields: Record<string, Check>): Check {
  const names = Object.keys(fields);
  return (v, path) => {
    if (!isObject(v)) return `${path}: expected an object`;
    for (const name of names) {
      const problem = fields[name]!(v[name], `${path}.${name}`);
      if (problem !== null) return problem;
    }
    for (const name in v) if (!(name in fields)) return `${path}: unexpected field '${name}'`;
    return null;
  };
}

/** An object tagged by `field`, checked by the schema of its tag; an unknown tag is refused. */
export function tagged(field: string, variants: Record<string, Check>, what: string): Check {
  return (v, path) => {
    if (!isObject(v)) return `${path}: expected an object`;
    const tag = v[field];
    if (typeof tag !== 'string' || !Object.prototype.hasOwnProperty.call(variants, tag)) {
      return `${path}: unknown ${what} ${JSON.stringify(tag)}; accepted: ${Object.keys(variants).join(', ')}`;
    }
    return variants[tag]!(v, path);
  };
}

/** Keys per command, as the workload allows. */
const KEYS_PER_COMMAND_MAX = 64;
const OPS_PER_KEY_MAX = 1024;
const KEY_LENGTH_MAX = 1024;

const op = tagged(
  'op',
  { get: object({ op: literal('get') }), put: object({ op: literal('put'), value: str() }), delete: object({ op: literal('delete') }) },
  'operation',
);
const keyOps = object({ key: str(KEY_LENGTH_MAX), ops: array(op, OPS_PER_KEY_MAX) });
const keyOpsList = array(keyOps, KEYS_PER_COMMAND_MAX);

/** A client command: a rifl, 1..64 keys sorted ascending and unique, each with 1+ operations. */
export const commandCheck: Check = (v, path) => {
  const shape = object({ rifl: int(1), keys: keyOpsList, payloadBytes: int(0, 64 * 1024 * 1024) })(v, path);
  if (shape !== null) return shape;
  const keys = (v as { keys: { key: string; ops: unknown[] }[] }).keys;
  if (keys.length === 0) return `${path}.keys: a command needs at least one key`;
  for (let i = 0; i < keys.length; i++) {
    if (keys[i]!.ops.length === 0) return `${path}.keys[${i}].ops: a key needs at least one operation`;
    if (i > 0 && !(keys[i - 1]!.key < keys[i]!.key)) return `${path}.keys: keys must be unique and sorted ascending`;
  }
  return null;
};

/** The partial result of one command on one key, as a reply carries it. */
const resultCheck = object({ rifl: int(1), key: str(KEY_LENGTH_MAX), results: array((v, p) => (v === null ? null : str()(v, p)), OPS_PER_KEY_MAX) });

/** Items per batch frame (messages, commands or replies). */
export const BATCH_ITEMS_MAX = 1_000_000;

/**
 * The frames of the runtime protocol, tagged by `k`:
 * - `hello`: first frame on every connection, naming a peer process or a client;
 * - `msgs`: protocol messages from the peer named in hello, in send order;
 * - `hb`: a heartbeat from that peer;
 * - `submit`: client commands (`retry` when the client sent the same rifl elsewhere before);
 * - `reply`: replies to a client.
 */
export type WireFrame =
  | { readonly k: 'hello'; readonly role: 'peer'; readonly id: number }
  | { readonly k: 'hello'; readonly role: 'client'; readonly id: number }
  | { readonly k: 'msgs'; readonly msgs: readonly unknown[] }
  | { readonly k: 'hb' }
  | { readonly k: 'submit'; readonly cmds: readonly { readonly cmd: unknown; readonly retry: boolean }[] }
  | { readonly k: 'reply'; readonly replies: readonly { readonly rifl: number; readonly results: readonly unknown[] }[] };

/** The checks a replica applies to the frames it receives; `message` depends on the protocol. */
export function frameCheck(message: Check, n: number): Check {
  return tagged(
    'k',
    {
      hello: (v, path) =>
        tagged('role', { peer: object({ k: literal('hello'), role: literal('peer'), id: int(1, n) }), client: object({ k: literal('hello'), role: literal('client'), id: int(1, 0x1f_ffff) }) }, 'role')(v, path),
      msgs: object({ k: literal('msgs'), msgs: array(message, BATCH_ITEMS_MAX) }),
      hb: object({ k: literal('hb') }),
      submit: object({ k: literal('submit'), cmds: array(object({ cmd: commandCheck, retry: (v, p) => (typeof v === 'boolean' ? null : `${p}: expected a boolean`) }), BATCH_ITEMS_MAX) }),
      reply: object({ k: literal('reply'), replies: array(object({ rifl: int(1), results: array(resultCheck, KEYS_PER_COMMAND_MAX) }), BATCH_ITEMS_MAX) }),
    },
    'frame kind',
  );
}

/** Any plain data whose `type` is a string: the fallback for a protocol without schemas here. */
export const plainMessageCheck: Check = (v, path) => (isObject(v) && typeof v['type'] === 'string' ? null : `${path}: expected a message object with a string 'type'`);

function processId(n: number): Check {
  return int(1, n);
}

const VOTES_MAX = 1_000_000;

/**
 * Message schemas per protocol, by message type. A protocol missing here is checked structurally only
 * ({@link plainMessageCheck}); the replica logs that at startup. A new message type must be added here,
 * or peers will refuse it as unknown.
 */
export function protocolMessageCheck(protocol: string, n: number): Check | undefined {
  const pid = processId(Math.min(n, MAX_PROCESSES));
  const count = int(0);
  switch (protocol) {
    case 'fpaxos':
      return tagged(
        'type',
        {
          MForwardSubmit: object({ type: literal('MForwardSubmit'), cmd: commandCheck }),
          MAccept: object({ type: literal('MAccept'), ballot: count, slot: int(1), cmd: commandCheck }),
          MAccepted: object({ type: literal('MAccepted'), ballot: count, slot: int(1) }),
          MChosen: object({ type: literal('MChosen'), slot: int(1), cmd: commandCheck }),
          MGarbageCollection: object({ type: literal('MGarbageCollection'), committed: count }),
        },
        'fpaxos message type',
      );
    case 'tempo': {
      const vote = object({ key: str(KEY_LENGTH_MAX), by: pid, start: count, end: count });
      const votes = array(vote, VOTES_MAX);
      return tagged(
        'type',
        {
          MCollect: object({ type: literal('MCollect'), dot: count, cmd: commandCheck, quorum: array(pid, n), clock: count }),
          MCollectAck: object({ type: literal('MCollectAck'), dot: count, clock: count, votes }),
          MConsensus: object({ type: literal('MConsensus'), dot: count, ballot: count, clock: count }),
          MConsensusAck: object({ type: literal('MConsensusAck'), dot: count, ballot: count }),
          MCommit: object({ type: literal('MCommit'), dot: count, clock: count, votes }),
          MDetached: object({ type: literal('MDetached'), votes }),
          MAttached: object({ type: literal('MAttached'), dot: count, votes }),
          MGarbageCollection: object({ type: literal('MGarbageCollection'), committed: array(count, n) }),
        },
        'tempo message type',
      );
    }
    default:
      return undefined;
  }
}
