/**
 * Crash points for the tests that prove a write path can die between any two steps and the next run finishes the
 * job: with OMNI_SHIP_FAILPOINT=<name>, the process kills itself (SIGKILL: no cleanup, no exit handler) when it
 * reaches that point, as `kill -9` or the OOM killer would. Unset (always, outside those tests), it costs one
 * environment lookup. The names are listed where each point is, and in the README.
 */
export function failpoint(name: string): void {
  if (process.env.OMNI_SHIP_FAILPOINT === name) process.kill(process.pid, 'SIGKILL');
}
