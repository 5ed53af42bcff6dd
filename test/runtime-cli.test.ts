import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, onTestFinished, test } from 'vitest';
import { parseCluster } from '../runtime/cluster.js';
import { alive, expectNoOrphans } from './support/runtime.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'orrery.js');
const dir = mkdtempSync(join(tmpdir(), 'orrery-run-'));

function orrery(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const good = { '1': { host: '127.0.0.1', port: 7101, region: 'a' }, '2': { host: '127.0.0.1', port: 7102, region: 'b' }, '3': { host: '127.0.0.1', port: 7103, region: 'c' } };

describe('cluster files', () => {
  test('a good file parses, binding to loopback unless it says otherwise', () => {
    const cluster = parseCluster(JSON.stringify({ ...good, '3': { ...good['3'], bind: '0.0.0.0' } }), 'c.json');
    expect(cluster.map((e) => [e.id, e.port, e.region, e.bind])).toEqual([
      [1, 7101, 'a', '127.0.0.1'],
      [2, 7102, 'b', '127.0.0.1'],
      [3, 7103, 'c', '0.0.0.0'],
    ]);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['not JSON', '{"1": ', /^cluster file c\.json is not valid JSON/],
    ['an array', '[]', /must be a JSON object mapping process ids to \{ host, port, region \}$/],
    ['two processes', JSON.stringify({ '1': good['1'], '2': good['2'] }), /lists 2 processes; a cluster needs 3 to 64$/],
    ['a gap in ids', JSON.stringify({ '1': good['1'], '2': good['2'], '4': good['3'] }), /'4' is not a process id; ids must be 1\.\.3 with no gaps$/],
    ['a bad port', JSON.stringify({ ...good, '2': { ...good['2'], port: 70000 } }), /process 2: port must be an integer from 0 to 65535 \(got 70000\)$/],
    ['a missing region', JSON.stringify({ ...good, '3': { host: 'h', port: 1 } }), /process 3: region must be a non-empty string \(got undefined\)$/],
    ['an unknown field', JSON.stringify({ ...good, '1': { ...good['1'], zone: 'x' } }), /process 1: unknown field 'zone'; accepted: host, port, region, bind$/],
    ['a shared address', JSON.stringify({ ...good, '3': { ...good['3'], port: 7101 } }), /processes 1 and 3 both use 127\.0\.0\.1:7101$/],
  ];
  for (const [what, text, message] of bad) {
    test(`refused: ${what}`, () => {
      expect(() => parseCluster(text, 'c.json')).toThrow(message);
    });
  }

  test('orrery run with a bad cluster file: one line, exit code 2, no process started', () => {
    const path = file('bad.json', JSON.stringify({ ...good, '2': { ...good['2'], port: -1 } }));
    const run = orrery('run', '--cluster', path, '--duration', '1s');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`orrery: cluster file ${path}, process 2: port must be an integer from 0 to 65535 (got -1)\n`);
    const missing = orrery('run', '--cluster', join(dir, 'none.json'));
    expect(missing.stderr).toMatch(/^orrery: cannot read cluster file '.*none\.json' \(ENOENT\)\n$/);
    expect(missing.code).toBe(2);
  });

  test('orrery run with a cluster port already taken: one line, exit code 2, no replica left behind', async () => {
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const taken = (server.address() as { port: number }).port;
    const path = file('taken.json', JSON.stringify({ ...good, '1': { ...good['1'], port: 0 }, '2': { ...good['2'], port: taken }, '3': { ...good['3'], port: 0 } }));
    const cli = spawn(process.execPath, [CLI, 'run', '--cluster', path, '--duration', '1s'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    cli.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const code = await new Promise<number | null>((resolve) => cli.once('close', resolve));
    server.close();
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`^(\\[replica 2\\] cannot listen on 127\\.0\\.0\\.1:${taken} \\(EADDRINUSE\\)\\n)?orrery: cannot start the cluster: replica 2: cannot listen on 127\\.0\\.0\\.1:${taken} \\(EADDRINUSE\\)\\n$`));
    const ps = spawnSync('ps', ['-o', 'pid=', '--ppid', String(cli.pid)], { encoding: 'utf8' });
    expect(ps.stdout.trim()).toBe('');
  });

  test('orrery run: other user mistakes are one line too', () => {
    expect(orrery('run', '--duration', 'soon').stderr).toBe("orrery: --duration must be a positive time up to 24h like '10s', '500ms' or '2m' (got 'soon')\n");
    expect(orrery('run', '--regions', 'us-east1,us-west1,europe-west2').stderr).toMatch(/^orrery: --regions needs --planet/);
    expect(orrery('run', '--recovery-timeout-ms', '0').stderr).toBe("orrery: --recovery-timeout-ms must be a number from 0.001 to 3600000 (got '0')\n");
    expect(orrery('run', '--planet', 'gcp', '--regions', 'us-east1,mars,europe-west2').stderr).toMatch(/^orrery: unknown region 'mars' on planet gcp/);
    expect(orrery('run', '--n', '4', '--cluster', file('good.json', JSON.stringify(good))).stderr).toMatch(/^orrery: --n 4 disagrees with the 3 processes of cluster file/);
  });
});

/** Ports free right now on loopback. */
async function freePorts(count: number): Promise<number[]> {
  const { createServer } = await import('node:net');
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<import('node:net').Server>((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => resolve(s)); })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

describe('orrery run', () => {
  test('a cluster across machines: one process served apart (--serve), the launcher runs the rest (--remote)', async () => {
    const ports = await freePorts(3);
    const cluster = Object.fromEntries(ports.map((port, i) => [String(i + 1), { host: '127.0.0.1', port, region: `r${i + 1}` }]));
    const path = file('spread.json', JSON.stringify(cluster));
    const served = spawn(process.execPath, [CLI, 'run', '--cluster', path, '--serve', '3', '--protocol', 'fpaxos'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let servedOut = '';
    let servedErr = '';
    served.stdout.setEncoding('utf8').on('data', (text: string) => (servedOut += text));
    served.stderr.setEncoding('utf8').on('data', (text: string) => (servedErr += text));
    // Whatever happens below, the served process must not outlive the test.
    onTestFinished(() => {
      if (served.exitCode === null && served.signalCode === null) served.kill('SIGKILL');
    });
    const driver = spawn(process.execPath, [CLI, 'run', '--cluster', path, '--remote', '3', '--protocol', 'fpaxos', '--clients', '6', '--commands', '20', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let driverOut = '';
    driver.stdout.setEncoding('utf8').on('data', (text: string) => (driverOut += text));
    expect(await new Promise((resolve) => driver.once('close', resolve))).toBe(0);
    const report = JSON.parse(driverOut) as { commands: number; notes: string[]; runtime: { cpu: { name: string }[] } };
    expect(report.commands).toBe(120);
    expect(report.runtime.cpu.map((c) => c.name)).toEqual(['replica 1', 'replica 2', 'client group 1']);
    expect(report.notes).toContain('processes 3 ran elsewhere: their CPU, messages and executions are not included');
    served.kill('SIGINT');
    expect(await new Promise((resolve) => served.once('close', resolve))).toBe(0);
    expect(servedErr).toMatch(/\[replica 3\] every link is up; serving until Ctrl-C/);
    const figures = JSON.parse(servedOut) as { id: number; executed: number; cpuUserMs: number };
    expect(figures.id).toBe(3);
    expect(figures.executed).toBe(120); // the served replica learned and ran every command
    expectNoOrphans([served.pid!, driver.pid!]);
  });

  test('prints the simulator report plus ops/s and CPU per process; the checks pass; no child survives', () => {
    const run = orrery('run', '--protocol', 'tempo', '--clients', '6', '--commands', '30', '--conflict', '50', '--check', '--json');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as {
      commands: number;
      clock: string;
      latencyMs: { byRegion: { region: string }[] };
      runtime: { opsPerSec: number; checks: string[]; cpu: { name: string; pid: number; cpuUserMs: number }[] };
    };
    expect(report.commands).toBe(180);
    expect(report.clock).toBe('wall-clock');
    expect(report.latencyMs.byRegion.map((r) => r.region)).toEqual(['local-1', 'local-2', 'local-3']);
    expect(report.runtime.opsPerSec).toBeGreaterThan(0);
    expect(report.runtime.checks).toEqual([]);
    expect(report.runtime.cpu.map((c) => c.name)).toEqual(['replica 1', 'replica 2', 'replica 3', 'client group 1']);
    for (const c of report.runtime.cpu) expect(c.cpuUserMs).toBeGreaterThan(0);
    expectNoOrphans(report.runtime.cpu.map((c) => c.pid));
    const text = orrery('run', '--protocol', 'fpaxos', '--clients', '3', '--commands', '10');
    expect(text.stdout).toMatch(/^fpaxos on loopback, n=3 f=1 leader=1 \(local-1\), seed 1\n/);
    expect(text.stdout).toMatch(/\ncommands: 30 in \d+\.\d{3} s wall-clock, [\d.]+ commands\/s\n/);
    expect(text.stdout).toMatch(/\nruntime: [\d.]+ ops\/s over [\d.]+ s wall-clock\ncpu time per process \(ms\):\n  replica 1 /);
  });

  for (const [signal, code] of [['SIGINT', 130], ['SIGKILL', null]] as const) {
    test(`${signal === 'SIGINT' ? 'Ctrl-C' : 'kill -9 of the launcher'} stops every child process`, async () => {
      const cli = spawn(process.execPath, [CLI, 'run', '--protocol', 'tempo', '--clients', '3', '--duration', '60s'], { stdio: 'ignore' });
      // Wait until the replicas and the client group are up.
      let children: number[] = [];
      for (let i = 0; i < 100 && children.length < 4; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const ps = spawnSync('ps', ['-o', 'pid=', '--ppid', String(cli.pid)], { encoding: 'utf8' });
        children = ps.stdout.split('\n').map((l) => Number(l.trim())).filter((pid) => pid > 0);
      }
      expect(children).toHaveLength(4);
      const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
      cli.kill(signal);
      expect(await exited).toBe(code);
      // After SIGKILL nobody cleans up: the children see their IPC channel close and exit on their own.
      for (let i = 0; i < 60 && children.some(alive); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expectNoOrphans(children);
    });
  }
});
