import type { Config } from '../config.js';
import { checksum } from '../hash.js';
import { readStatusTable, SettledIds, tableKey, touchedTasks, writeStatusTable } from '../state/status-table.js';
import { writeStatusAnswer, writeStatusSnapshot } from '../state/status-cache.js';
import { compareTaskIds, loadState, readingKey, type ReadFound } from '../state/tasks.js';
import type { readVerifyContext } from '../verify/current.js';
import { RECENT_LANDED_DAYS, badLineWarnings, countStates, isTaskStatusJson, taskJson, type StatusAnswer, type TaskStatusJson } from './status.js';

/** Every task's JSON view (status --all and the filters), computed from git and stored under `key` for the next run. */
export async function everyTask(cwd: string, config: Config, dir: string | null, refs: string, verify: ReturnType<typeof readVerifyContext>, key: string): Promise<{ base: string; spec: string | null; tasks: TaskStatusJson[]; warnings: string[] }> {
  const judged = await verify.load();
  const state = await loadState(cwd, config, dir, refs, judged.context);
  const tasks = [...state.tasks.values()].sort((a, b) => compareTaskIds(a.id, b.id)).map(taskJson);
  const computed = { base: state.base, spec: judged.context.spec, tasks, warnings: [...badLineWarnings(state), ...(judged.warning ? [judged.warning] : [])] };
  writeStatusSnapshot(dir, key, () => computed);
  return computed;
}

/**
 * The default listing: the tasks in flight (not landed and not closed, or landed by omni-ship in the last
 * RECENT_LANDED_DAYS days) and the counts of every task. With the table of the last run (src/state/status-table.ts), views are built only
 * for the tasks it listed, those a branch names and those the changes since name; else for every task, and the
 * table is written for the next run.
 */
export async function inFlightListing(cwd: string, config: Config, dir: string | null, refs: string, verify: ReturnType<typeof readVerifyContext>, key: string, now: number): Promise<StatusAnswer> {
  // the spec results are judged by is read beside the notes and the logs (its cat-file need not wait for them);
  // handled here so that a failure is reported where it is awaited, not as an unhandled rejection
  const judgedP = verify.load();
  const contextP = judgedP.then((j) => j.context);
  contextP.catch(() => undefined);
  let found: ReadFound | null = null;
  let picked: Set<string> | null = null;
  let prior = null as ReturnType<typeof readStatusTable<TaskStatusJson>>;
  let inputs: string | null = null;
  const state = await loadState(cwd, config, dir, refs, contextP, {
    pick: async (read) => {
      found = read;
      const judged = await judgedP;
      // what every view reads besides the notes and the base: the branches and the commits off the base, and the
      // verify runs in progress on this machine (a view shows since when its tree is being verified)
      inputs = read.branches === null ? null : checksum().update(read.branches).update('\0').update(JSON.stringify(judged.context.running)).digest();
      prior = readStatusTable(dir, tableKey(config, judged.context.spec, readingKey(refs, dir)), isTaskStatusJson);
      if (!prior) return null;
      const touched = await touchedTasks(cwd, config, prior.table, read);
      if (!touched) return null;
      picked = touched.tasks;
      if (inputs !== null && prior.table.inputs === inputs && !touched.removed) {
        // nothing every view reads changed: a listed task keeps its view unless a change names it, its tree's
        // verify results or its landing
        const trees = prior.table.trees ?? {};
        for (const t of prior.table.listed) {
          const tree = trees[t.id];
          if ((tree !== undefined && touched.trees.has(tree)) || (t.landedCommit !== null && touched.landed.has(t.landedCommit)) || (t.landing !== null && touched.landed.has(t.landing.landed))) picked.add(t.id);
        }
      } else {
        for (const t of prior.table.listed) picked.add(t.id);
        for (const id of read.presence) picked.add(id);
      }
      return picked;
    },
  });
  const judged = await judgedP;
  const tkey = tableKey(config, judged.context.spec, readingKey(refs, dir));
  const windowStart = new Date(now - RECENT_LANDED_DAYS * 86_400_000).toISOString();
  // a closed task is settled at once (it has no time to leave a window by), in a set of its own: counted as closed
  const recent = (t: TaskStatusJson) => (t.state !== 'landed' && t.state !== 'closed') || (t.state === 'landed' && t.landing !== null && t.landing.at >= windowStart);
  const settle = (t: TaskStatusJson) => (t.state === 'closed' ? closed : settled).add(t.id);
  const listed = new Map<string, TaskStatusJson>();
  // the listed tasks' head trees (a view kept keeps its tree)
  const trees = new Map<string, string>();
  let settled: SettledIds;
  let closed: SettledIds;
  if (prior && picked) {
    ({ settled, closed } = prior);
    for (const t of prior.table.listed) listed.set(t.id, t);
    for (const [id, tree] of Object.entries(prior.table.trees ?? {})) trees.set(id, tree);
    // listed and settled never share a task: the settled files are read only for a task that was not listed
    for (const id of picked as Set<string>) {
      if (listed.delete(id)) continue;
      settled.delete(id);
      closed.delete(id);
    }
  } else {
    const was = prior as { settled: SettledIds; closed: SettledIds } | null;
    was?.settled.close();
    was?.closed.close();
    settled = SettledIds.empty();
    closed = SettledIds.emptyClosed();
  }
  for (const view of state.tasks.values()) {
    const t = taskJson(view);
    if (view.tree) trees.set(t.id, view.tree);
    else trees.delete(t.id);
    if (recent(t)) listed.set(t.id, t);
    else settle(t);
  }
  // a listed task that left the window since the table was written: settled now
  for (const [id, t] of listed) {
    if (recent(t)) continue;
    listed.delete(id);
    settle(t);
  }
  const read = found as ReadFound | null;
  if (read) {
    const notes = Object.fromEntries([...read.notes].map(([ref, part]) => [ref, part.tip]));
    const listedTrees: Record<string, string> = {};
    for (const id of listed.keys()) {
      const tree = trees.get(id);
      if (tree !== undefined) listedTrees[id] = tree;
    }
    writeStatusTable(dir, { key: tkey, notes, baseTips: [...read.baseTips], listed: [...listed.values()], inputs, trees: listedTrees }, settled, closed);
  }
  settled.close();
  closed.close();
  const tasks = [...listed.values()].sort((a, b) => compareTaskIds(a.id, b.id));
  const counts = countStates(tasks, settled.count, closed.count);
  const warnings = [...badLineWarnings(state), ...(judged.warning ? [judged.warning] : [])];
  // without the active runs: every status reads them afresh (src/state/active-runs.ts), they are no part of the answer stored
  const data: StatusAnswer = { base: state.base, spec: judged.context.spec, counts, listing: { rule: 'in-flight', landedWithinDays: RECENT_LANDED_DAYS, hidden: settled.count + closed.count }, tasks, warnings };
  // good until the first landed task listed leaves the window
  let validUntil = Number.MAX_SAFE_INTEGER;
  for (const t of tasks) if (t.state === 'landed' && t.landing) validUntil = Math.min(validUntil, Date.parse(t.landing.at) + RECENT_LANDED_DAYS * 86_400_000);
  writeStatusAnswer(dir, key, validUntil, warnings, () => `${JSON.stringify(data, null, 2)}\n`);
  return data;
}
