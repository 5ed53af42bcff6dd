/** `orrery regions`: the regions of a planet, optionally with RTTs from one of them. */
import { planetFrom, stringFlag } from './options.js';

type Argv = Record<string, unknown>;

export const REGIONS_FLAGS = {
  planet: { type: 'string', describe: 'built-in latency matrix: gcp or aws', default: 'gcp' },
  'planet-file': { type: 'string', describe: 'a TSV RTT matrix (docs/planet-file.md; overrides --planet)' },
  from: { type: 'string', describe: 'also print the RTT from this region to every other, nearest first' },
} as const;

export function runRegionsCommand(argv: Argv, print: (text: string) => void): void {
  const planet = planetFrom(argv);
  const from = stringFlag(argv, 'from', undefined);
  if (from === undefined) {
    print([`${planet.name}: ${planet.regions.length} regions`, ...planet.regions.map((r) => `  ${r}`)].join('\n'));
    return;
  }
  planet.regionIndex(from);
  const rows = planet.regions.map((to) => ({ to, rttMs: planet.rttMs(from, to) })).sort((a, b) => a.rttMs - b.rttMs || (a.to < b.to ? -1 : 1));
  const width = Math.max(...rows.map((r) => r.to.length));
  print([`${planet.name}: RTT from ${from} (ms)`, ...rows.map((r) => `  ${r.to.padEnd(width)}  ${r.rttMs.toFixed(3).padStart(8)}`)].join('\n'));
}
