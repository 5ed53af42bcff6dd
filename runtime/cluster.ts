/**
 * Cluster files: where each replica process listens and in which region it sits.
 *
 * ```json
 * { "1": { "host": "127.0.0.1", "port": 7001, "region": "us-east1" },
 *   "2": { "host": "127.0.0.1", "port": 7002, "region": "europe-west2" },
 *   "3": { "host": "10.0.0.7",  "port": 7003, "region": "asia-southeast1", "bind": "0.0.0.0" } }
 * ```
 *
 * Ids are 1..n with no gaps. `host` is the address peers and clients dial; the process listens on
 * `bind`, which defaults to 127.0.0.1 (loopback) so nothing is exposed unless the file says so. Port 0
 * asks for an ephemeral port (the launcher then tells everyone the port actually taken; only for
 * processes the launcher starts itself). Every mistake is a UsageError naming the file, the process
 * and what is expected.
 */
import { readFileSync } from 'node:fs';
import { MAX_PROCESSES } from '../core/config.js';
import type { ProcessId } from '../core/ids.js';
import { UsageError } from '../core/invariant.js';

export interface ClusterEntry {
  readonly id: ProcessId;
  readonly host: string;
  readonly port: number;
  readonly region: string;
  /** Address to listen on (default 127.0.0.1). */
  readonly bind: string;
}

/** Entries by id, index i for process i+1. */
export type Cluster = readonly ClusterEntry[];

const FIELDS = new Set(['host', 'port', 'region', 'bind']);

/** Parses and validates a cluster description (the file's JSON text); `source` names it in errors. */
export function parseCluster(text: string, source: string): Cluster {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`cluster file ${source} is not valid JSON (${(error as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UsageError(`cluster file ${source} must be a JSON object mapping process ids to { host, port, region }`);
  }
  const record = raw as Record<string, unknown>;
  const ids = Object.keys(record);
  if (ids.length < 3 || ids.length > MAX_PROCESSES) {
    throw new UsageError(`cluster file ${source} lists ${ids.length} processes; a cluster needs 3 to ${MAX_PROCESSES}`);
  }
  const entries: ClusterEntry[] = [];
  for (const key of ids) {
    const id = Number(key);
    if (!/^[1-9]\d*$/.test(key) || id > ids.length) {
      throw new UsageError(`cluster file ${source}: '${key}' is not a process id; ids must be 1..${ids.length} with no gaps`);
    }
    const value = record[key];
    const where = `cluster file ${source}, process ${id}`;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new UsageError(`${where}: expected an object { host, port, region }`);
    }
    const entry = value as Record<string, unknown>;
    for (const field of Object.keys(entry)) {
      if (!FIELDS.has(field)) throw new UsageError(`${where}: unknown field '${field}'; accepted: host, port, region, bind`);
    }
    const { host, port, region } = entry;
    const bind = entry['bind'] ?? '127.0.0.1';
    if (typeof host !== 'string' || host.trim() === '') throw new UsageError(`${where}: host must be a non-empty string (got ${JSON.stringify(host)})`);
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
      throw new UsageError(`${where}: port must be an integer from 0 to 65535 (got ${JSON.stringify(port)})`);
    }
    if (typeof region !== 'string' || region.trim() === '') throw new UsageError(`${where}: region must be a non-empty string (got ${JSON.stringify(region)})`);
    if (typeof bind !== 'string' || bind.trim() === '') throw new UsageError(`${where}: bind must be a non-empty address (got ${JSON.stringify(bind)})`);
    entries[id - 1] = { id, host, port, region, bind };
  }
  const seen = new Map<string, ProcessId>();
  for (const entry of entries) {
    if (entry.port === 0) continue;
    const address = `${entry.host}:${entry.port}`;
    const other = seen.get(address);
    if (other !== undefined) throw new UsageError(`cluster file ${source}: processes ${other} and ${entry.id} both use ${address}`);
    seen.set(address, entry.id);
  }
  return entries;
}

/** Reads and validates a cluster file. */
export function readClusterFile(file: string): Cluster {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read cluster file '${file}' (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  return parseCluster(text, file);
}

/** A loopback cluster of `regions.length` processes on ephemeral ports. */
export function loopbackCluster(regions: readonly string[]): Cluster {
  return regions.map((region, i) => ({ id: i + 1, host: '127.0.0.1', port: 0, region, bind: '127.0.0.1' }));
}

/** Region names for a loopback run without a planet: one per process, `local-1`, `local-2`, … */
export function localRegions(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `local-${i + 1}`);
}
