/**
 * A planet: named regions and the measured round-trip times between them.
 *
 * One-way delay from A to B is half of the RTT measured from A to B. Delays are kept as integer
 * nanoseconds (the matrices have microsecond resolution, so RTT/2 is exact in ns); the simulator adds
 * integers only, and the closed-form estimates (bote) reproduce its latencies to the nanosecond.
 */
import { UsageError } from '../core/invariant.js';
import { AWS_RTT, GCP_RTT, type RttMatrixData } from './planet-data.js';

export const BUILT_IN_PLANETS = ['gcp', 'aws'] as const;
export type BuiltInPlanet = (typeof BUILT_IN_PLANETS)[number];

const NS_PER_MS = 1_000_000;

export class Planet {
  readonly name: string;
  readonly description: string;
  readonly regions: readonly string[];
  private readonly indexByRegion = new Map<string, number>();
  /** oneWayNs[from * size + to] */
  private readonly oneWayNsMatrix: Float64Array;

  constructor(data: RttMatrixData) {
    this.name = data.name;
    this.description = data.description;
    this.regions = data.regions;
    const size = data.regions.length;
    this.oneWayNsMatrix = new Float64Array(size * size);
    data.regions.forEach((region, i) => this.indexByRegion.set(region, i));
    for (let from = 0; from < size; from++) {
      for (let to = 0; to < size; to++) {
        const rttUs = Math.round(data.rttMs[from]![to]! * 1000);
        this.oneWayNsMatrix[from * size + to] = rttUs * 500;
      }
    }
  }

  /** The index of `region`; an unknown region is a {@link UsageError} that lists the known ones. */
  regionIndex(region: string): number {
    const index = this.indexByRegion.get(region);
    if (index === undefined) {
      throw new UsageError(`unknown region '${region}' on planet ${this.name}; known regions: ${this.regions.join(', ')}`);
    }
    return index;
  }

  /** One-way delay in integer nanoseconds between two region indices. */
  oneWayNs(from: number, to: number): number {
    return this.oneWayNsMatrix[from * this.regions.length + to]!;
  }

  /** Round-trip time in milliseconds as measured from `from` to `to`. */
  rttMs(from: string, to: string): number {
    return (2 * this.oneWayNs(this.regionIndex(from), this.regionIndex(to))) / NS_PER_MS;
  }
}

/** A built-in planet by name; anything else is a {@link UsageError} naming the accepted values. */
export function builtInPlanet(name: string): Planet {
  switch (name) {
    case 'gcp':
      return new Planet(GCP_RTT);
    case 'aws':
      return new Planet(AWS_RTT);
    default:
      throw new UsageError(`unknown planet '${name}'; accepted: ${BUILT_IN_PLANETS.join(', ')}, or a matrix file with --planet-file`);
  }
}

/**
 * Parses a user matrix in the TSV format of docs/planet-file.md: `#` comment lines, a header
 * `from\to<TAB>region...`, then one row per region in the same order with RTTs in milliseconds.
 * Every problem is a {@link UsageError} naming the file, the line and what was expected.
 */
export function parsePlanetTsv(text: string, source: string): Planet {
  let header: string[] | null = null;
  const rows: number[][] = [];
  const rowRegions: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let lineIndex = 0; lineIndex < lines.length; lineIndex++) {
    const line = lines[lineIndex]!;
    const where = `${source}:${lineIndex + 1}`;
    if (line.startsWith('#') || line.trim() === '') continue;
    const cells = line.split('\t');
    if (header === null) {
      header = cells.slice(1).map((c) => c.trim());
      if (header.length === 0 || header.some((r) => r === '')) {
        throw new UsageError(`${where}: expected a header 'from\\to<TAB>region<TAB>...' naming every region`);
      }
      if (new Set(header).size !== header.length) throw new UsageError(`${where}: a region is named twice in the header`);
      continue;
    }
    const region = cells[0]!.trim();
    const expectedRegion = header[rows.length];
    if (expectedRegion === undefined) {
      throw new UsageError(`${where}: more rows than the ${header.length} regions of the header`);
    }
    if (region !== expectedRegion) {
      throw new UsageError(`${where}: row for '${region}' where the header order expects '${expectedRegion}'`);
    }
    if (cells.length - 1 !== header.length) {
      throw new UsageError(`${where}: ${cells.length - 1} values where ${header.length} regions were expected`);
    }
    const values = cells.slice(1).map((cell, column) => {
      const value = Number(cell.trim());
      if (cell.trim() === '' || !Number.isFinite(value) || value < 0) {
        throw new UsageError(`${where}: RTT to '${header![column]}' must be a non-negative number of milliseconds (got '${cell}')`);
      }
      return value;
    });
    rows.push(values);
    rowRegions.push(region);
  }
  if (header === null) throw new UsageError(`${source}: no header line 'from\\to<TAB>region...' found`);
  if (rows.length !== header.length) {
    throw new UsageError(`${source}: ${rows.length} rows for ${header.length} regions; every region needs a row`);
  }
  const name = source.replace(/^.*[\\/]/, '').replace(/\.tsv$/, '');
  return new Planet({ name, description: `user matrix ${source}`, regions: header, rttMs: rows });
}
