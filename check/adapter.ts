/**
 * The adapter register's properties (docs/adapter-register.md, "Properties Orrery must check"),
 * checked from outside: from what the inference nodes and validators observed and from the replicas'
 * audit logs, never from the agents' or the register's own bookkeeping.
 *
 * 1. Safety: the live replicas' audit logs agree (each is a prefix of the longest), and every
 *    version a node loaded has a `released` entry there, preceded by a strict majority of the whole
 *    group's first votes on it being passes (tallied here, independently of the register). No
 *    request was served by any other version.
 * 2. Integrity: every load's bytes hash to the digest the register (the stream, for the rolling
 *    update) gave that version.
 * 3. Monotonic progression: each node's served versions only move forward; each poller saw `current`
 *    only move forward; releases in the log have increasing sequence numbers.
 * 4. Fault tolerance: no regressed version was released; and, when no download was corrupted, every
 *    good version that was not superseded was released (a minority of crashed validators must not
 *    block a good version).
 * 5. Convergence: with no faults, the fleet converged on each release within its bound (the scenario
 *    measures both).
 *
 * The rolling update has no register: it is checked on the same observations against the stream's
 * ground truth, and is expected to fail safety (it serves versions nobody validated) and, with
 * rollbacks, monotonic progression.
 */
import type { AuditEntry } from '../apps/adapter-register/audit-log.js';

/** One property's outcome. */
export interface PropertyResult {
  readonly property: 'safety' | 'integrity' | 'monotonic' | 'fault-tolerance' | 'convergence';
  /** `undefined`: not judged on this run (e.g. convergence under faults). */
  readonly holds: boolean | undefined;
  readonly detail: string;
}

/** A version of the stream as the checkers know it (the ground truth). */
export interface StreamFact {
  readonly index: number;
  readonly kind: 'good' | 'regressed';
  readonly digest: string;
}

/** A node's switch (stream indices, 0 = base model). */
export interface SwitchFact {
  readonly atMs: number;
  readonly from: number;
  readonly to: number;
}

/** A load: what the node was told and the digest of the bytes it loaded. */
export interface LoadFact {
  readonly node: number;
  readonly index: number;
  readonly versionId: string;
  readonly expectedDigest: string;
  readonly loadedDigest: string;
}

/** Everything one run observed. */
export interface DeployObservations {
  readonly strategy: 'register' | 'rolling';
  readonly groupSize: number;
  readonly stream: readonly StreamFact[];
  /** Register strategy: each live replica's audit log of the target. */
  readonly auditLogs: readonly (readonly AuditEntry[])[];
  readonly nodes: ReadonlyArray<{ readonly switches: readonly SwitchFact[]; readonly requests: ArrayLike<number> }>;
  readonly loads: readonly LoadFact[];
  /** `current`'s sequence number as each poller saw it, poll after poll. */
  readonly currentSeqSeen: readonly (readonly number[])[];
  /** Whether any download could have been corrupted (corruption faults in the schedule). */
  readonly corruption: boolean;
  /** Whether the run finished (false: it lost liveness; fault tolerance then fails). */
  readonly finished: boolean;
}

/** What the audit log says about each version id. */
interface LogFacts {
  readonly digestOf: Map<string, string>;
  readonly seqOf: Map<string, number>;
  /** Released version ids, in log order. */
  readonly released: string[];
  readonly rejected: Set<string>;
  readonly superseded: Set<string>;
  /** Released ids whose release was not backed by a strict pass majority of first votes. */
  readonly unbacked: string[];
  /** The candidate left at the end, if any. */
  readonly open: string | undefined;
}

function logFacts(log: readonly AuditEntry[], groupSize: number): LogFacts {
  const digestOf = new Map<string, string>();
  const seqOf = new Map<string, number>();
  const released: string[] = [];
  const rejected = new Set<string>();
  const superseded = new Set<string>();
  const unbacked: string[] = [];
  const firstVotes = new Map<string, Map<string, boolean>>();
  let open: string | undefined;
  for (const { event } of log) {
    switch (event.type) {
      case 'proposed':
        digestOf.set(event.versionId, event.digest);
        seqOf.set(event.versionId, event.seq);
        open = event.versionId;
        break;
      case 'voted': {
        const votes = firstVotes.get(event.versionId) ?? new Map<string, boolean>();
        if (!votes.has(event.validator)) votes.set(event.validator, event.pass);
        firstVotes.set(event.versionId, votes);
        break;
      }
      case 'released': {
        let passes = 0;
        for (const pass of firstVotes.get(event.versionId)?.values() ?? []) if (pass) passes++;
        if (!(passes > groupSize / 2)) unbacked.push(event.versionId);
        released.push(event.versionId);
        open = undefined;
        break;
      }
      case 'rejected':
        rejected.add(event.versionId);
        open = undefined;
        break;
      case 'superseded':
        superseded.add(event.versionId);
        break;
      case 'stable':
        break;
    }
  }
  return { digestOf, seqOf, released, rejected, superseded, unbacked, open };
}

/** The longest live log, after checking every other one is a prefix of it (by hash). */
function agreedLog(logs: readonly (readonly AuditEntry[])[]): { log: readonly AuditEntry[]; disagreement: string | undefined } {
  let longest: readonly AuditEntry[] = [];
  for (const log of logs) if (log.length > longest.length) longest = log;
  for (const [replica, log] of logs.entries()) {
    for (let i = 0; i < log.length; i++) {
      if (log[i]!.hash !== longest[i]!.hash) return { log: longest, disagreement: `live replica #${replica + 1}'s audit log differs from the longest at entry ${i}` };
    }
  }
  return { log: longest, disagreement: undefined };
}

function sum(values: ArrayLike<number>, keep: (index: number) => boolean): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) if (keep(i)) total += values[i]!;
  return total;
}

/** Checks properties 1–4 on one run's observations (convergence comes from the scenario's figures). */
export function checkDeployment(o: DeployObservations): PropertyResult[] {
  const byIndex = new Map(o.stream.map((fact) => [fact.index, fact]));
  const results: PropertyResult[] = [];
  if (o.strategy === 'register') {
    const { log, disagreement } = agreedLog(o.auditLogs);
    const facts = logFacts(log, o.groupSize);
    const releasedIndices = new Set<number>();
    const problems: string[] = [];
    if (disagreement !== undefined) problems.push(disagreement);
    for (const id of facts.unbacked) problems.push(`${id} was released without a strict pass majority of ${o.groupSize} validators' first votes`);
    for (const id of facts.released) {
      const digest = facts.digestOf.get(id);
      const fact = o.stream.find((version) => version.digest === digest);
      if (fact !== undefined) releasedIndices.add(fact.index);
    }
    const releasedIds = new Set(facts.released);
    for (const load of o.loads) {
      if (!releasedIds.has(load.versionId)) problems.push(`node ${load.node} loaded ${load.versionId}, which the register never released`);
      else if (facts.digestOf.get(load.versionId) !== byIndex.get(load.index)?.digest) problems.push(`node ${load.node} loaded ${load.versionId} as stream version ${load.index}, whose digest differs`);
    }
    const unreleasedRequests = o.nodes.reduce((total, node) => total + sum(node.requests, (i) => i !== 0 && !releasedIndices.has(i)), 0);
    if (unreleasedRequests > 0) problems.push(`${unreleasedRequests} requests were served by versions the register never released`);
    results.push({
      property: 'safety',
      holds: problems.length === 0,
      detail: problems.length === 0 ? `${o.loads.length} loads, all of ${facts.released.length} released versions backed by a pass majority; 0 requests by unreleased versions` : problems.slice(0, 3).join('; '),
    });
    const integrity = o.loads.filter((load) => load.loadedDigest !== load.expectedDigest || facts.digestOf.get(load.versionId) !== load.expectedDigest);
    results.push({
      property: 'integrity',
      holds: integrity.length === 0,
      detail: integrity.length === 0 ? `${o.loads.length} loads, every digest equal to the register's` : `node ${integrity[0]!.node} loaded bytes ${integrity[0]!.loadedDigest.slice(0, 12)} for ${integrity[0]!.versionId} (register: ${facts.digestOf.get(integrity[0]!.versionId)?.slice(0, 12)})`,
    });
    const backwards: string[] = [];
    o.nodes.forEach((node, n) => {
      for (const change of node.switches) if (!(change.to > change.from)) backwards.push(`node ${n} went from version ${change.from} to ${change.to} at ${change.atMs.toFixed(1)} ms`);
    });
    o.currentSeqSeen.forEach((seen, poller) => {
      for (let i = 1; i < seen.length; i++) if (seen[i]! < seen[i - 1]!) backwards.push(`poller ${poller} saw current go from seq ${seen[i - 1]} to ${seen[i]}`);
    });
    for (let i = 1; i < facts.released.length; i++) {
      if (facts.seqOf.get(facts.released[i]!)! <= facts.seqOf.get(facts.released[i - 1]!)!) backwards.push(`the log released ${facts.released[i]} after ${facts.released[i - 1]}`);
    }
    results.push({
      property: 'monotonic',
      holds: backwards.length === 0,
      detail: backwards.length === 0 ? `every node and poller only moved forward (${o.currentSeqSeen.reduce((total, seen) => total + seen.length, 0)} polls)` : backwards.slice(0, 3).join('; '),
    });
    const badReleased = [...releasedIndices].filter((index) => byIndex.get(index)?.kind === 'regressed');
    const goodBlocked: string[] = [];
    if (!o.corruption) {
      for (const [id, digest] of facts.digestOf) {
        const fact = o.stream.find((version) => version.digest === digest);
        if (fact?.kind !== 'good' || facts.superseded.has(id) || releasedIds.has(id)) continue;
        goodBlocked.push(facts.rejected.has(id) ? `good version ${fact.index} (${id}) was rejected` : `good version ${fact.index} (${id}) was never decided`);
      }
    }
    const ftProblems = [...badReleased.map((index) => `regressed version ${index} was released`), ...goodBlocked, ...(o.finished ? [] : ['the run lost liveness'])];
    results.push({
      property: 'fault-tolerance',
      holds: ftProblems.length === 0,
      detail:
        ftProblems.length === 0
          ? `no regressed version released; ${o.corruption ? 'good versions not judged (corrupted downloads may fail them)' : 'every good version not superseded was released'}`
          : ftProblems.slice(0, 3).join('; '),
    });
    return results;
  }

  // The rolling update: the same observations against the stream alone.
  const badRequests = o.nodes.reduce((total, node) => total + sum(node.requests, (i) => byIndex.get(i)?.kind === 'regressed'), 0);
  const badLoads = o.loads.filter((load) => byIndex.get(load.index)?.kind === 'regressed');
  results.push({
    property: 'safety',
    holds: badLoads.length === 0,
    detail: badLoads.length === 0 ? 'no regressed version was loaded' : `${badLoads.length} loads of regressed versions, ${badRequests} requests served by them (no gate)`,
  });
  const integrity = o.loads.filter((load) => load.loadedDigest !== load.expectedDigest || byIndex.get(load.index)?.digest !== load.expectedDigest);
  results.push({
    property: 'integrity',
    holds: integrity.length === 0,
    detail: integrity.length === 0 ? `${o.loads.length} loads, every digest equal to the published one` : `node ${integrity[0]!.node} loaded bytes ${integrity[0]!.loadedDigest.slice(0, 12)} for version ${integrity[0]!.index}`,
  });
  let backwards = 0;
  for (const node of o.nodes) for (const change of node.switches) if (!(change.to > change.from)) backwards++;
  results.push({
    property: 'monotonic',
    holds: backwards === 0,
    detail: backwards === 0 ? 'no node moved backwards' : `${backwards} switches moved a node backwards (rollbacks)`,
  });
  results.push({
    property: 'fault-tolerance',
    holds: badLoads.length === 0 && o.finished,
    detail: `${new Set(badLoads.map((load) => load.index)).size} regressed versions reached nodes${o.finished ? '' : '; the run lost liveness'}`,
  });
  return results;
}
