import { afterAll, describe, expect, it } from 'vitest';
import { TaskRecordsFollower } from '../../src/pipeline/tasks.js';
import { cleanupAll, makeRepo } from '../helpers/repo.js';

afterAll(cleanupAll);

describe('TaskRecordsFollower (the run loop reads what changed)', () => {
  it('reads the records whole once, then only the tasks whose notes changed; a rewritten ref is read whole again', async () => {
    const repo = makeRepo();
    for (const id of ['t-1', 't-2', 't-3']) expect(repo.omni(['task', 'add', id, '--title', `work ${id}`]).code).toBe(0);
    const follower = new TaskRecordsFollower(repo.dir);
    expect([...(await follower.refresh())].sort()).toEqual(['t-1', 't-2', 't-3']);
    expect(await follower.refresh()).toEqual(new Set());
    expect(repo.omni(['task', 'edit', 't-2', '--title', 'renamed']).code).toBe(0);
    expect(await follower.refresh()).toEqual(new Set(['t-2']));
    expect(follower.records.get('t-2')?.title).toBe('renamed');
    expect(follower.records.get('t-1')?.title).toBe('work t-1');
    expect(repo.omni(['task', 'add', 't-4', '--title', 'new']).code).toBe(0);
    expect(await follower.refresh()).toEqual(new Set(['t-4']));
    expect([...follower.records.keys()].sort()).toEqual(['t-1', 't-2', 't-3', 't-4']);
    // a note removed by hand takes its task with it
    const key = repo.git(['notes', '--ref', 'refs/notes/omni-ship/tasks', 'list']).split('\n').filter(Boolean).map((l) => l.split(' ')[1]!);
    const t3 = key.find((k) => repo.git(['notes', '--ref', 'refs/notes/omni-ship/tasks', 'show', k]).includes('"task":"t-3"'))!;
    repo.git(['notes', '--ref', 'refs/notes/omni-ship/tasks', 'remove', t3]);
    expect(await follower.refresh()).toEqual(new Set(['t-3']));
    expect(follower.records.has('t-3')).toBe(false);
    // the ref rewritten to a commit the follower never saw, and its old tip gone: read whole, right
    const tip = repo.git(['rev-parse', 'refs/notes/omni-ship/tasks']).trim();
    const orphan = repo.git(['commit-tree', `${tip}^{tree}`, '-m', 'rewritten'], {}).trim();
    repo.git(['update-ref', 'refs/notes/omni-ship/tasks', orphan]);
    repo.git(['reflog', 'expire', '--expire=now', '--all']);
    repo.git(['gc', '-q', '--prune=now']);
    await follower.refresh();
    expect([...follower.records.keys()].sort()).toEqual(['t-1', 't-2', 't-4']);
  });
});
