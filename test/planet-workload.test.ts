import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Rng } from '../core/rng.js';
import { builtInPlanet, parsePlanetTsv } from '../sim/planet.js';
import { ClientWorkload, WORKLOAD_DEFAULTS, ZipfTable } from '../sim/workload.js';

describe('planet', () => {
  test('the shipped example planet file (docs/planet-file.md) parses to the built-in GCP figures of its regions', () => {
    const file = join(import.meta.dirname, '..', 'examples', 'planet-3-regions.tsv');
    const planet = parsePlanetTsv(readFileSync(file, 'utf8'), file);
    const gcp = builtInPlanet('gcp');
    const regions = ['us-east1', 'europe-west2', 'asia-southeast1'];
    for (const a of regions) for (const b of regions) expect(planet.rttMs(a, b)).toBe(gcp.rttMs(a, b));
  });

  test('built-in matrices have their regions and measured RTTs', () => {
    const gcp = builtInPlanet('gcp');
    const aws = builtInPlanet('aws');
    expect(gcp.regions).toHaveLength(20);
    expect(aws.regions).toHaveLength(19);
    expect(gcp.rttMs('asia-east1', 'asia-east2')).toBe(18.908);
    expect(gcp.rttMs('asia-east2', 'asia-east1')).toBe(18.911); // measured separately per direction
    expect(gcp.oneWayNs(gcp.regionIndex('asia-east1'), gcp.regionIndex('asia-east2'))).toBe(9_454_000);
    expect(() => aws.regionIndex('us-east1')).toThrow(/unknown region 'us-east1' on planet aws; known regions: af-south-1, /);
  });

  test('a user matrix in the shared TSV format', () => {
    const planet = parsePlanetTsv('# comment\nfrom\\to\tx\ty\nx\t0.5\t20\ny\t21\t0.4\n', 'lab.tsv');
    expect(planet.name).toBe('lab');
    expect(planet.rttMs('x', 'y')).toBe(20);
    expect(planet.rttMs('y', 'x')).toBe(21);
    expect(() => parsePlanetTsv('from\\to\tx\ty\nx\t0\t1\n', 'short.tsv')).toThrow('short.tsv: 1 rows for 2 regions; every region needs a row');
    expect(() => parsePlanetTsv('from\\to\tx\ty\ny\t0\t1\nx\t1\t0\n', 'o.tsv')).toThrow(/o.tsv:2: row for 'y' where the header order expects 'x'/);
    expect(() => parsePlanetTsv('from\\to\tx\nx\t-1\n', 'n.tsv')).toThrow(/non-negative number/);
  });
});

describe('workload', () => {
  test('conflict rate draws shared keys at about that rate, private keys otherwise', () => {
    const workload = new ClientWorkload(7, { ...WORKLOAD_DEFAULTS, commandsPerClient: 4000, conflictRate: 25, sharedKeys: 3 }, new Rng(1), undefined);
    let shared = 0;
    for (let cmd = workload.next(); cmd !== undefined; cmd = workload.next()) {
      const key = cmd.keys[0]!.key;
      if (key.startsWith('s')) shared++;
      else expect(key).toBe('c7-0');
    }
    expect(workload.finished).toBe(true);
    expect(shared / 4000).toBeGreaterThan(0.22);
    expect(shared / 4000).toBeLessThan(0.28);
  });

  test('read ratio and keys per command', () => {
    const workload = new ClientWorkload(1, { ...WORKLOAD_DEFAULTS, commandsPerClient: 1000, readRatio: 40, keysPerCommand: 3, conflictRate: 50, sharedKeys: 2 }, new Rng(2), undefined);
    let reads = 0;
    for (let cmd = workload.next(); cmd !== undefined; cmd = workload.next()) {
      expect(new Set(cmd.keys.map((k) => k.key)).size).toBe(3);
      if (cmd.keys.every((k) => k.ops[0]!.op === 'get')) reads++;
    }
    expect(reads).toBeGreaterThan(340);
    expect(reads).toBeLessThan(460);
  });

  test('zipf puts more mass on low ranks', () => {
    const table = new ZipfTable(1.2, 100);
    const rng = new Rng(3);
    const counts = new Array<number>(100).fill(0);
    for (let i = 0; i < 20_000; i++) counts[table.sample(rng.next())]!++;
    expect(counts[0]!).toBeGreaterThan(counts[1]!);
    expect(counts[1]!).toBeGreaterThan(counts[10]!);
    expect(counts[10]!).toBeGreaterThan(counts[99]!);
  });
});
