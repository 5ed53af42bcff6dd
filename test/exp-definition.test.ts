import { describe, expect, test } from 'vitest';
import { UsageError } from '../core/invariant.js';
import { EXPERIMENTS } from '../experiments/catalog.js';
import { expandDefinition, validateDefinition, type ExperimentDefinition } from '../experiments/definition.js';

const TINY: ExperimentDefinition = {
  name: 'tiny',
  description: 'two protocols on three GCP sites',
  siteSets: [{ name: 'gcp-3', planet: 'gcp', regions: ['us-east1', 'europe-west2', 'asia-southeast1'] }],
  protocols: [{ protocol: 'tempo', f: [1] }, { protocol: 'epaxos' }],
  conflictPct: [0, 50],
  clientsPerRegion: [2],
  commandsPerClient: 5,
  seeds: [1, 2],
};

function errorOf(change: Record<string, unknown>): string {
  try {
    validateDefinition({ ...TINY, ...change });
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('no error');
}

describe('experiment definitions: validation names the field and what is accepted', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['bad name', { name: 'Tiny Exp' }, /^experiment definition: name must be lower-case words joined by '-' \(got "Tiny Exp"\)$/],
    ['unknown field', { clients: 3 }, /^experiment 'tiny': unknown field 'clients'; accepted: name, description, siteSets,/],
    ['unknown protocol', { protocols: [{ protocol: 'raft', f: [1] }] }, /protocols\[0\]\.protocol must be one of fpaxos, epaxos, atlas, tempo \(got "raft"\)$/],
    ['f for EPaxos', { protocols: [{ protocol: 'epaxos', f: [1] }] }, /protocols\[0\]: EPaxos takes no f/],
    ['missing f', { protocols: [{ protocol: 'atlas' }] }, /protocols\[0\]\.f must be a non-empty list$/],
    ['unknown planet', { siteSets: [{ name: 'x', planet: 'moon', regions: ['a', 'b', 'c'] }] }, /siteSets\[0\]\.planet must be one of gcp, aws \(got "moon"\)$/],
    [
      'unknown region',
      { siteSets: [{ name: 'x', planet: 'aws', regions: ['eu-west-1', 'us-west-1', 'mars-1'] }] },
      /siteSets\[0\]\.regions: unknown region "mars-1" on planet aws; known regions: af-south-1/,
    ],
    ['too few regions', { siteSets: [{ name: 'x', planet: 'aws', regions: ['eu-west-1', 'us-west-1'] }] }, /siteSets\[0\]\.regions needs at least 3 regions$/],
    ['conflict out of range', { conflictPct: [2, 120] }, /^experiment 'tiny': conflictPct\[1\] must be a number from 0 to 100 \(got 120\)$/],
    ['no seeds', { seeds: [] }, /^experiment 'tiny': seeds must be a non-empty list$/],
    ['fractional clients', { clientsPerRegion: [1.5] }, /clientsPerRegion\[0\] must be an integer from 1 to 100000 \(got 1.5\)$/],
    ['cores without a profile', { cores: 4 }, /cores needs the CPU model: give cpuProfile/],
    ['f too large everywhere', { protocols: [{ protocol: 'tempo', f: [2] }] }, /expands to no points: every f is too large for every site set$/],
    ['bad table value', { tables: [{ title: 't', rows: ['label'], columns: 'region', value: 'median' }] }, /tables\[0\]\.value must be one of mean_ms, /],
    ['table with both forms', { tables: [{ title: 't', rows: ['label'], columns: 'region', value: 'mean_ms', values: ['p99_ms'] }] }, /tables\[0\]: give either values, or columns and value$/],
    ['unknown plot kind', { plots: [{ kind: 'pie', file: 'p', title: 't' }] }, /^experiment 'tiny': plots\[0\]\.kind must be one of bars, lines, cdf, timeline \(got "pie"\)$/],
    ['plot field of another kind', { plots: [{ kind: 'cdf', file: 'p', title: 't', y: 'mean_ms' }] }, /plots\[0\]: unknown field 'y' for a cdf plot; accepted: kind, file, title, where, series$/],
    ['bad plot file', { plots: [{ kind: 'cdf', file: 'My Plot', title: 't' }] }, /plots\[0\]\.file must be lower-case words joined by '-' \(got "My Plot"\)$/],
    ['plot file used twice', { plots: [{ kind: 'cdf', file: 'p', title: 't' }, { kind: 'cdf', file: 'p', title: 'u' }] }, /plots\[1\]\.file 'p' is used twice$/],
    ['plot named report', { plots: [{ kind: 'cdf', file: 'report', title: 't' }] }, /plots\[0\]\.file must not be 'report'/],
    ['bad line y', { plots: [{ kind: 'lines', file: 'p', title: 't', x: 'n', y: 'n' }] }, /plots\[0\]\.y must be one of mean_ms, .* \(got "n"\)$/],
    ['bad bar x', { plots: [{ kind: 'bars', file: 'p', title: 't', x: 'mean_ms', value: 'mean_ms' }] }, /plots\[0\]\.x must be one of site_set, .* \(got "mean_ms"\)$/],
    [
      'bars with values and a whisker',
      { plots: [{ kind: 'bars', file: 'p', title: 't', x: 'label', values: ['mean_ms'], whisker: 'p99_ms' }] },
      /plots\[0\]: give either values, or value \(with optional series and whisker\)$/,
    ],
    ['bad plot where', { plots: [{ kind: 'cdf', file: 'p', title: 't', where: { colour: 'red' } }] }, /plots\[0\]\.where key must be one of site_set, .* \(got "colour"\)$/],
  ];
  for (const [what, change, message] of cases) {
    test(what, () => expect(errorOf(change)).toMatch(message));
  }

  test('a valid definition comes back unchanged', () => {
    expect(validateDefinition(TINY)).toEqual(TINY);
  });

  test('every built-in experiment is valid and has a description, tables and plots', () => {
    expect([...EXPERIMENTS.keys()]).toEqual(['f1-vs-f2', 'fast-path', 'increasing-sites', 'throughput', 'bote', 'recovery']);
    for (const definition of EXPERIMENTS.values()) {
      expect(validateDefinition(definition)).toBe(definition);
      expect(definition.tables?.length ?? 0).toBeGreaterThan(0);
      expect(definition.plots?.length ?? 0).toBeGreaterThan(0);
    }
  });
});

describe('expanding a definition into points', () => {
  test('the product of the dimensions, in order, with zero-padded ids', () => {
    const points = expandDefinition(TINY);
    expect(points.map((p) => `${p.id} ${p.label} c${p.conflictPct} s${p.seed}`)).toEqual([
      '0 tempo f=1 c0 s1',
      '1 tempo f=1 c0 s2',
      '2 tempo f=1 c50 s1',
      '3 tempo f=1 c50 s2',
      '4 epaxos c0 s1',
      '5 epaxos c0 s2',
      '6 epaxos c50 s1',
      '7 epaxos c50 s2',
    ]);
    expect(points[0]!.clientRegions).toEqual(TINY.siteSets[0]!.regions);
    expect(points[4]!.f).toBe(1); // EPaxos tolerates ⌊3/2⌋ = 1
  });

  test('an f too large for a site set skips only that site set', () => {
    const points = expandDefinition({
      ...TINY,
      siteSets: [...TINY.siteSets, { name: 'gcp-5', planet: 'gcp', regions: ['us-east1', 'europe-west2', 'asia-southeast1', 'us-west1', 'southamerica-east1'] }],
      protocols: [{ protocol: 'atlas', f: [1, 2] }],
      conflictPct: [2],
      seeds: [1],
    });
    expect(points.map((p) => `${p.siteSet} ${p.label}`)).toEqual(['gcp-3 atlas f=1', 'gcp-5 atlas f=1', 'gcp-5 atlas f=2']);
  });

  test('increasing-sites runs r = 3 to 13 in the Atlas paper order with clients in all 13 regions', () => {
    const points = expandDefinition(EXPERIMENTS.get('increasing-sites')!);
    const sizes = [...new Set(points.map((p) => p.regions.length))];
    expect(sizes).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    const largest = points.find((p) => p.regions.length === 13)!;
    expect(largest.regions.slice(0, 3)).toEqual(['asia-southeast1', 'europe-west4', 'southamerica-east1']);
    for (const point of points) expect(point.clientRegions).toHaveLength(13);
  });
});
