/**
 * CPU time of the calling thread, for benchmarks that split work over worker threads.
 *
 * `process.cpuUsage()` sums every thread of the process, and Node 20 has no per-thread counterpart,
 * so on Linux this reads the calling thread's own `utime + stime` from `/proc/thread-self/stat`
 * (clock ticks of 10 ms: good for runs of seconds, not for single tasks). Elsewhere it answers
 * undefined and callers fall back to time spent inside their task functions.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ: 100 on every Linux architecture Node supports). */
const TICKS_PER_SECOND = 100;

/** The calling thread's user + system CPU time in ms, or undefined where the platform does not say. */
export function threadCpuMs(): number | undefined {
  let stat: string;
  try {
    stat = readFileSync('/proc/thread-self/stat', 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name, fields start at 3 (state); utime is field 14 and stime field 15.
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return ((utime + stime) * 1000) / TICKS_PER_SECOND;
}
