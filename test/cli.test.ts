import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'orrery.js');

function orrery(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run the tests with 'npm test', which builds first`);
});

describe('orrery CLI: bad input is one line, exit code 2, no stack trace', () => {
  const cases: Array<[string[], RegExp]> = [
    [['sim', '--regions', 'us-east1,mars,asia-east1'], /^orrery: unknown region 'mars' on planet gcp; known regions: asia-east1, .*us-west2$/],
    [['sim', '--f', '3'], /^orrery: f=3 needs at least 7 processes \(got n=5\)$/],
    [['sim', '--f', '0'], /^orrery: f must be an integer of at least 1 \(got f=0\)$/],
    [['sim', '--protocol', 'raft'], /^orrery: unknown protocol 'raft'; accepted: fpaxos/],
    [['sim', '--commands', 'many'], /^orrery: --commands must be an integer from 1 to 100000000 \(got 'many'\)$/],
    [['sim', '--conflict', '120'], /^orrery: --conflict must be a number from 0 to 100 \(got '120'\)$/],
    [['sim', '--leader', 'mars'], /^orrery: --leader 'mars' is neither a process id from 1 to 5 nor a process region \(us-east1, /],
    [['sim', '--planet', 'moon'], /^orrery: unknown planet 'moon'; accepted: gcp, aws, or a matrix file with --planet-file$/],
    [['sim', '--planet-file', '/no/such/file.tsv'], /^orrery: cannot read planet file '\/no\/such\/file.tsv' \(ENOENT\)/],
    [['sim', '--bogus-flag', '1'], /^orrery: Unknown argument: bogus-flag; see 'orrery sim --help' for the accepted options$/],
    [['sim', '--regions', 'us-east1', '--regions', 'us-west1'], /^orrery: --regions was given more than once; give it once$/],
    [['sim', '--failure-detection-ms', '200'], /^orrery: --failure-detection-ms needs --faults: without crashes nothing is ever suspected$/],
    [['sim', '--failure-detection-ms', 'soon'], /^orrery: --failure-detection-ms must be a number from 0 to 3600000 \(got 'soon'\)$/],
    [['sim', '--timeline-ms', '0'], /^orrery: --timeline-ms must be a number from 1 to 3600000 \(got '0'\)$/],
    [['sim', '--faults', '{"crashes":[{"process":7,"atMs":5}]}'], /^orrery: --faults: faults\.crashes\[0\]\.process must be a process id from 1 to 5 \(got 7\)$/],
    [['bote', '--regions', 'us-east1,us-west1'], /^orrery: n must be an integer from 3 to 64 \(got 2\)$/],
    [['regions', '--planet', 'aws', '--from', 'us-east1x'], /^orrery: unknown region 'us-east1x' on planet aws; known regions: af-south-1/],
    [[], /^orrery: name a command: sim, check, calibrate, run, exp, plot, app, bote or regions$/],
  ];
  for (const [args, message] of cases) {
    test(`orrery ${args.join(' ')}`, () => {
      const run = orrery(...args);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      const lines = run.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(run.stderr).not.toMatch(/\bat .*\.js:\d+/);
    });
  }

  test('a malformed matrix file names the file, line and problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orrery-cli-'));
    const file = join(dir, 'bad.tsv');
    writeFileSync(file, '# test\nfrom\\to\ta\tb\na\t0.1\t10\nb\t10\tfast\n');
    const run = orrery('regions', '--planet-file', file);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(`orrery: ${file}:4: RTT to 'b' must be a non-negative number of milliseconds (got 'fast')`);
  });
});

describe('orrery CLI: working invocations', () => {
  test('sim prints a report; --json and --history write machine-readable output', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orrery-cli-'));
    const history = join(dir, 'history.jsonl');
    const text = orrery('sim', '--regions', 'us-east1,europe-west2,asia-east1', '--clients-per-region', '2', '--commands', '5');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^fpaxos on gcp, n=3 f=1 leader=1 \(us-east1\), seed 1$/m);
    expect(text.stdout).toMatch(/^commands: 30 in /m);
    const json = orrery('sim', '--regions', 'us-east1,europe-west2,asia-east1', '--clients-per-region', '2', '--commands', '5', '--json', '--history', history);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.commands).toBe(30);
    expect(report.latencyMs.byRegion.map((r: { region: string }) => r.region)).toEqual(['us-east1', 'europe-west2', 'asia-east1']);
    const lines = readFileSync(history, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(30);
    expect(JSON.parse(lines[0]!)).toHaveProperty('invokeMs');
  });

  test('--history of a run that gets stuck: written anyway, with the unanswered commands as unknown outcomes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orrery-cli-'));
    const history = join(dir, 'stuck.jsonl');
    // Two crashes with f = 1: Atlas cannot recover, so the run stops at its stall limit.
    const run = orrery('sim', '--protocol', 'atlas', '--faults', '{"crashes":[{"process":1,"atMs":200},{"process":2,"atMs":200}]}', '--clients-per-region', '1', '--commands', '5', '--history', history);
    expect(run.code).toBe(1);
    const unanswered = Number(/with (\d+) commands unanswered/.exec(run.stdout)![1]);
    expect(unanswered).toBeGreaterThan(0);
    const lines = readFileSync(history, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { completeMs: number | null; results: unknown; process: number | null });
    const pending = lines.filter((l) => l.completeMs === null);
    expect(pending).toHaveLength(unanswered);
    for (const p of pending) expect([p.results, p.process]).toEqual([null, null]);
    expect(lines.length).toBeGreaterThan(pending.length);
  });

  test('EPaxos says once that it ignores --f', () => {
    const run = orrery('sim', '--protocol', 'epaxos', '--f', '2', '--clients-per-region', '1', '--commands', '3');
    expect(run.code).toBe(0);
    const notes = run.stdout.split('\n').filter((line) => line.startsWith('note: '));
    expect(notes).toEqual(['note: EPaxos ignores --f: it always tolerates F=⌊n/2⌋=2 failures with n=5']);
    const silent = orrery('sim', '--protocol', 'epaxos', '--clients-per-region', '1', '--commands', '3');
    expect(silent.stdout).not.toMatch(/^note:/m);
  });

  test('bote and regions', () => {
    const estimate = orrery('bote', '--planet', 'aws', '--regions', 'eu-west-1,us-west-1,ap-southeast-1', '--leader', 'us-west-1');
    expect(estimate.code).toBe(0);
    expect(estimate.stdout).toMatch(/leader 2 \(us-west-1\)/);
    const regions = orrery('regions', '--planet', 'aws');
    expect(regions.stdout.split('\n')[0]).toBe('aws: 19 regions');
  });

  test('sim --scenario stuck-command prints per-process figures; flags it fixes itself are refused', () => {
    const run = orrery('sim', '--scenario', 'stuck-command', '--protocol', 'tempo', '--json');
    expect(run.code).toBe(0);
    const [figures] = JSON.parse(run.stdout);
    expect(figures.protocol).toBe('tempo');
    expect(figures.processes).toHaveLength(5);
    expect(figures.hold).toBe('proposal');
    const all = orrery('sim', '--scenario', 'stuck-command', '--hold', 'replies');
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('comparison (hold: replies;');
    expect(all.stdout.split('\n').filter((line) => /^(epaxos|atlas|tempo)\s+\d+\s+\d+\//.test(line))).toHaveLength(3);
    const badHold = orrery('sim', '--scenario', 'stuck-command', '--hold', 'nope');
    expect(badHold.code).toBe(2);
    expect(badHold.stderr.trim()).toBe("orrery: unknown --hold 'nope'; accepted: proposal, replies");
    expect(orrery('sim', '--hold', 'replies').stderr.trim()).toBe('orrery: --hold applies only to --scenario stuck-command');
    const refused = orrery('sim', '--scenario', 'stuck-command', '--commands', '3');
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe(
      "orrery: --commands does not apply to --scenario stuck-command, which fixes its own regions and workload; it accepts --protocol, --seed, --hold and --json",
    );
    expect(orrery('sim', '--scenario', 'nope').stderr.trim()).toBe("orrery: unknown scenario 'nope'; accepted: stuck-command");
  });

  test('--help on each subcommand', () => {
    for (const command of ['sim', 'bote', 'regions']) {
      const help = orrery(command, '--help');
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/--planet/);
    }
  });
});
