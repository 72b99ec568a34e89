import fs from 'node:fs';

/**
 * A process's start time (clock ticks since boot, field 22 of /proc/<pid>/stat), or null where there is no /proc.
 * A pid and its start time name one process for good: a pid file holding both is never mistaken for the unrelated
 * process that got the same pid after the first one died.
 */
export function processStartTime(pid: number): string | null {
  const fields = statFields(pid);
  return fields?.[19] ?? null;
}

/**
 * When process `pid` started, in ms since the epoch, or null where /proc does not tell: its start in clock ticks
 * (USER_HZ, 100 a second) after the boot, /proc/stat's btime, which is in whole seconds, so the sum is at most the
 * true start (by up to a second). A zombie (exited, never reaped) answers null as well.
 */
export function processStartedAt(pid: number): number | null {
  const fields = statFields(pid);
  if (!fields || fields[0] === 'Z' || fields[0] === 'X') return null;
  try {
    const boot = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'latin1'))?.[1]);
    const ticks = Number(fields[19]);
    return Number.isFinite(boot) && Number.isFinite(ticks) ? boot * 1000 + ticks * 10 : null;
  } catch {
    return null;
  }
}

/** The fields of /proc/<pid>/stat after "pid (comm) ": the state is [0], pgrp [2], the start time [19]; null without /proc. */
export function statFields(pid: number): string[] | null {
  try {
    // comm may hold spaces and parentheses: the fields start after the last ')'
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/**
 * Whether `pid` runs and is no zombie (exited, never reaped: some container inits never do): false when it does not,
 * its /proc stat fields when it does, null when it does and there is no /proc to say more (`kill -0` said yes;
 * EPERM: it exists, another user's).
 */
export function liveProcessFields(pid: number): string[] | null | false {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const fields = statFields(pid);
  if (!fields) return null;
  return fields[0] === 'Z' || fields[0] === 'X' ? false : fields;
}

/**
 * True when the process `pid` that started at `start` still runs. A zombie (exited, never reaped: some container
 * inits never do) is not running. Without a start time (a pid file or a claimed spool file of an earlier
 * version), the live process must be an omni-ship drainer (`… hook drain …` on its command line). Without /proc
 * (not Linux), a live pid is taken for the process.
 */
export function sameProcessAlive(pid: number, start: string | null): boolean {
  const fields = liveProcessFields(pid);
  if (fields === false) return false;
  if (fields === null) return true; // no /proc: kill -0 said yes
  if (start !== null) return fields[19] === start;
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.some((a, i) => a === 'hook' && argv[i + 1] === 'drain');
  } catch {
    return false;
  }
}
