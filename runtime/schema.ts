/**
 * Strict shape checks for everything a runtime process decodes from a socket, so that a malformed or
 * unknown frame is refused at the edge (one log line, that connection closed) and never reaches
 * protocol code, where a missing field would throw or corrupt state.
 *
 * A check returns null when the value fits, else a short description of the first problem with its
 * path (`msgs[3].cmd.keys[0].ops`). Checks are closures built once per process.
 */
import { MAX_PROCESSES } from '../core/config.js';
import { invalidMembers, isMembershipMessage } from '../core/membership.js';

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
export function object(fields: Record<string, Check>, optional: Record<string, Check> = {}): Check {
  const names = Object.keys(fields);
  const optionalNames = Object.keys(optional);
  return (v, path) => {
    if (!isObject(v)) return `${path}: expected an object`;
    for (const name of names) {
      const problem = fields[name]!(v[name], `${path}.${name}`);
      if (problem !== null) return problem;
    }
    for (const name of optionalNames) {
      if (v[name] === undefined) continue;
      const problem = optional[name]!(v[name], `${path}.${name}`);
      if (problem !== null) return problem;
    }
    for (const name in v) if (!(name in fields) && !(name in optional)) return `${path}: unexpected field '${name}'`;
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

const bool: Check = (v, path) => (typeof v === 'boolean' ? null : `${path}: expected a boolean`);

/** Keys per command, as the workload allows. */
const KEYS_PER_COMMAND_MAX = 64;
const OPS_PER_KEY_MAX = 1024;
const KEY_LENGTH_MAX = 1024;

const op = tagged(
  'op',
  {
    get: object({ op: literal('get') }),
    put: object({ op: literal('put'), value: str() }),
    delete: object({ op: literal('delete') }),
    // An application operation (the adapter register's propose/vote/markStable).
    call: object({ op: literal('call'), name: str(KEY_LENGTH_MAX), args: str() }),
  },
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

/** An operator's request to a replica (`orrery admin`): remove process `process`, or report the configuration. */
export type AdminRequest = { readonly op: 'remove'; readonly process: number } | { readonly op: 'status' };

/**
 * A replica's answer to an admin request: the configuration it is at (after the removal, for a
 * `remove` that succeeded), or why it refused.
 */
export type AdminAnswer =
  | { readonly ok: true; readonly id: number; readonly epoch: number; readonly members: readonly number[]; readonly removed: boolean }
  | { readonly ok: false; readonly id: number; readonly reason: string; readonly removed: boolean };

/**
 * The frames of the runtime protocol, tagged by `k`:
 * - `hello`: first frame on every connection, naming a peer process, a client, or an admin (an
 *   operator's tool, `orrery admin`; its id is only a label);
 * - `msgs`: protocol messages from the peer named in hello, in send order;
 * - `hb`: a heartbeat from that peer;
 * - `submit`: client commands (`retry` when the client sent the same rifl elsewhere before);
 * - `reply`: replies to a client;
 * - `admin`: an admin's request; `answer`: the replica's answer to it.
 */
export type WireFrame =
  | { readonly k: 'hello'; readonly role: 'peer'; readonly id: number }
  | { readonly k: 'hello'; readonly role: 'client'; readonly id: number }
  | { readonly k: 'hello'; readonly role: 'admin'; readonly id: number }
  | { readonly k: 'msgs'; readonly msgs: readonly unknown[]; readonly e?: number }
  | { readonly k: 'hb' }
  | { readonly k: 'submit'; readonly cmds: readonly { readonly cmd: unknown; readonly retry: boolean }[] }
  | { readonly k: 'reply'; readonly replies: readonly { readonly rifl: number; readonly results: readonly unknown[] }[] }
  | { readonly k: 'admin'; readonly request: AdminRequest }
  | { readonly k: 'answer'; readonly answer: AdminAnswer };

/** Largest configuration number a frame may claim (one change per removal: far beyond any run). */
const EPOCH_MAX = 1_000_000;

/** Length limit on a refusal reason an admin answer carries. */
const REASON_LENGTH_MAX = 1024;

/** The checks a replica applies to the frames it receives; `message` depends on the protocol. */
export function frameCheck(message: Check, n: number): Check {
  const memberList = array(int(1, MAX_PROCESSES), MAX_PROCESSES);
  return tagged(
    'k',
    {
      hello: (v, path) =>
        tagged(
          'role',
          {
            peer: object({ k: literal('hello'), role: literal('peer'), id: int(1, n) }),
            client: object({ k: literal('hello'), role: literal('client'), id: int(1, 0x1f_ffff) }),
            admin: object({ k: literal('hello'), role: literal('admin'), id: int(0, 0x1f_ffff) }),
          },
          'role',
        )(v, path),
      // `e`: the sender's configuration when it sent the batch (Replica.handle's senderEpoch; 0 when absent).
      msgs: object({ k: literal('msgs'), msgs: array(message, BATCH_ITEMS_MAX) }, { e: int(0, EPOCH_MAX) }),
      hb: object({ k: literal('hb') }),
      submit: object({ k: literal('submit'), cmds: array(object({ cmd: commandCheck, retry: (v, p) => (typeof v === 'boolean' ? null : `${p}: expected a boolean`) }), BATCH_ITEMS_MAX) }),
      reply: object({ k: literal('reply'), replies: array(object({ rifl: int(1), results: array(resultCheck, KEYS_PER_COMMAND_MAX) }), BATCH_ITEMS_MAX) }),
      admin: object({
        k: literal('admin'),
        request: tagged('op', { remove: object({ op: literal('remove'), process: int(1, MAX_PROCESSES) }), status: object({ op: literal('status') }) }, 'admin operation'),
      }),
      answer: object({
        k: literal('answer'),
        answer: (v, path) =>
          isObject(v) && v['ok'] === false
            ? object({ ok: literal(false), id: int(1, MAX_PROCESSES), reason: str(REASON_LENGTH_MAX), removed: bool })(v, path)
            : object({ ok: literal(true), id: int(1, MAX_PROCESSES), epoch: int(0), members: memberList, removed: bool })(v, path),
      }),
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
/** Dependencies per dot: bounded by the commands in flight, far below this. */
const DEPS_MAX = 1_000_000;
/** Slots a promise may report. */
const SLOTS_MAX = 1_000_000;

/** `check`, or null. */
export function nullable(check: Check): Check {
  return (v, path) => (v === null ? null : check(v, path));
}

/** `check`, or absent (an optional field; msgpack and postMessage keep an explicit undefined too). */
export function optional(check: Check): Check {
  return (v, path) => (v === undefined ? null : check(v, path));
}

/** One of these strings. */
export function oneOf(...values: readonly string[]): Check {
  return (v, path) => (typeof v === 'string' && values.includes(v) ? null : `${path}: expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
}


/** The protocols {@link protocolMessageCheck} has exact schemas for. */
export const PROTOCOLS_WITH_SCHEMAS = ['fpaxos', 'tempo', 'atlas', 'epaxos'] as const;

/**
 * Message schemas per protocol, by message type, mirroring protocols/<name>/messages.ts exactly
 * (test/runtime-schema.test.ts captures every message simulations with crashes, drops and partitions
 * send, and checks each against these). A protocol missing here is checked structurally only
 * ({@link plainMessageCheck}); the replica logs that at startup. A new message type must be added here,
 * or peers will refuse it as unknown.
 */
export function protocolMessageCheck(protocol: string, n: number): Check | undefined {
  const pid = processId(Math.min(n, MAX_PROCESSES));
  const count = int(0);
  const dot = int(1);
  const quorum = array(pid, n);
  const perProcess = array(count, n);
  const deps = array(dot, DEPS_MAX);
  switch (protocol) {
    case 'fpaxos': {
      const slotValue = nullable(commandCheck);
      return tagged(
        'type',
        {
          MForwardSubmit: object({ type: literal('MForwardSubmit'), cmd: commandCheck }),
          MAccept: object({ type: literal('MAccept'), ballot: count, slot: int(1), cmd: slotValue }),
          MAccepted: object({ type: literal('MAccepted'), ballot: count, slot: int(1) }),
          MChosen: object({ type: literal('MChosen'), slot: int(1), cmd: slotValue }),
          MGarbageCollection: object({ type: literal('MGarbageCollection'), committed: count }),
          MPrepare: object({ type: literal('MPrepare'), ballot: count }),
          MPromise: object({
            type: literal('MPromise'),
            ballot: count,
            accepted: array(object({ slot: int(1), abal: count, cmd: slotValue }), SLOTS_MAX),
            committed: count,
          }),
          MNack: object({ type: literal('MNack'), ballot: count }),
        },
        'fpaxos message type',
      );
    }
    case 'tempo': {
      const vote = object({ key: str(KEY_LENGTH_MAX), by: pid, start: count, end: count });
      const votes = array(vote, VOTES_MAX);
      return tagged(
        'type',
        {
          MCollect: object({ type: literal('MCollect'), dot, cmd: commandCheck, quorum, clock: count }),
          MCollectAck: object({ type: literal('MCollectAck'), dot, clock: count, votes }),
          MConsensus: object({ type: literal('MConsensus'), dot, ballot: count, clock: count }),
          MConsensusAck: object({ type: literal('MConsensusAck'), dot, ballot: count }),
          MCommit: object({ type: literal('MCommit'), dot, clock: count, votes, cmd: optional(commandCheck) }),
          MRec: object({ type: literal('MRec'), dot, ballot: count, cmd: commandCheck, quorum }),
          MRecAck: object({
            type: literal('MRecAck'),
            dot,
            ballot: count,
            proposal: count,
            votes,
            phase: oneOf('RECOVER_R', 'RECOVER_P'),
            abal: count,
            aval: count,
          }),
          MVotesRequest: object({ type: literal('MVotesRequest'), keys: array(str(KEY_LENGTH_MAX), VOTES_MAX) }),
          MDetached: object({ type: literal('MDetached'), votes }),
          MAttached: object({ type: literal('MAttached'), dot, votes }),
          MGarbageCollection: object({ type: literal('MGarbageCollection'), committed: perProcess }),
        },
        'tempo message type',
      );
    }
    case 'atlas': {
      const value = object({ isNoop: bool, deps });
      const payload = object({ cmd: commandCheck, quorum });
      return tagged(
        'type',
        {
          MCollect: object({ type: literal('MCollect'), dot, cmd: commandCheck, deps, quorum }),
          MCollectAck: object({ type: literal('MCollectAck'), dot, deps }),
          MConsensus: object({ type: literal('MConsensus'), dot, ballot: count, value, payload: optional(payload) }),
          MConsensusAck: object({ type: literal('MConsensusAck'), dot, ballot: count }),
          MCommit: object({ type: literal('MCommit'), dot, value, cmd: optional(commandCheck) }),
          MRec: object({ type: literal('MRec'), dot, ballot: count, payload: nullable(payload) }),
          MRecAck: object({
            type: literal('MRecAck'),
            dot,
            ballot: count,
            deps,
            phase: oneOf('RECOVER_R', 'RECOVER_P', 'NO_PAYLOAD'),
            abal: count,
            aval: nullable(value),
            payload: nullable(payload),
          }),
          MGarbageCollection: object({ type: literal('MGarbageCollection'), committed: perProcess, executed: perProcess }),
        },
        'atlas message type',
      );
    }
    case 'epaxos': {
      const seq = count;
      const value = object({ cmd: nullable(commandCheck), deps, seq });
      return tagged(
        'type',
        {
          MCollect: object({ type: literal('MCollect'), dot, cmd: commandCheck, deps, seq, quorum, executedUpTo: perProcess }),
          MCollectAck: object({ type: literal('MCollectAck'), dot, deps, seq }),
          MConsensus: object({ type: literal('MConsensus'), dot, ballot: count, value }),
          MConsensusAck: object({ type: literal('MConsensusAck'), dot, ballot: count }),
          MCommit: object({ type: literal('MCommit'), dot, value }),
          MGarbageCollection: object({ type: literal('MGarbageCollection'), committed: perProcess, executed: perProcess }),
          MPrepare: object({ type: literal('MPrepare'), dot, ballot: count, cmd: nullable(commandCheck) }),
          MPrepareOk: object({
            type: literal('MPrepareOk'),
            dot,
            ballot: count,
            cmd: nullable(commandCheck),
            preAccepted: nullable(object({ deps, seq })),
            accepted: nullable(object({ ballot: count, value })),
          }),
          MRecoverCollect: object({ type: literal('MRecoverCollect'), dot, ballot: count, cmd: commandCheck }),
          MRecoverCollectAck: object({ type: literal('MRecoverCollectAck'), dot, ballot: count, deps, seq }),
          MNack: object({ type: literal('MNack'), dot, ballot: count }),
        },
        'epaxos message type',
      );
    }
    default:
      return undefined;
  }
}

/**
 * The membership service's messages (core/membership.ts), the same for every protocol: epochs are
 * integers ≥ 0, ballots ≥ 1, member lists ascending distinct ids 1..n, n − f to n of them
 * (`invalidMembers`, the service's own rule).
 */
export function membershipMessageCheck(n: number, f: number): Check {
  const epoch = int(0);
  const ballot = int(1);
  const members: Check = (v, path) => {
    const problem = invalidMembers(v, n, f);
    return problem === undefined ? null : `${path}: ${problem}`;
  };
  return tagged(
    'type',
    {
      MConfigPrepare: object({ type: literal('MConfigPrepare'), epoch, ballot }),
      MConfigPromise: object({ type: literal('MConfigPromise'), epoch, ballot, abal: int(0), aval: nullable(members) }),
      MConfigAccept: object({ type: literal('MConfigAccept'), epoch, ballot, members }),
      MConfigAccepted: object({ type: literal('MConfigAccepted'), epoch, ballot }),
      MConfigDecided: object({ type: literal('MConfigDecided'), epoch, members }),
      MConfigStatus: object({ type: literal('MConfigStatus'), epoch }),
    },
    'membership message type',
  );
}

/** What a replica accepts from a peer: the membership service's messages, else the protocol's. */
export function peerMessageCheck(protocol: Check, membership: Check): Check {
  return (v, path) => (isObject(v) && typeof v['type'] === 'string' && isMembershipMessage(v as { type: string }) ? membership(v, path) : protocol(v, path));
}
