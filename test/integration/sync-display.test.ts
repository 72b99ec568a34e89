import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISPLAY_REF, landedNoteText, writeDisplayNote } from '../../src/notes/display.js';
import { remoteDisplayRef } from '../../src/notes/refs.js';
import { cleanupAll, makeRemote, tempDir, wrapRepo, type TestRepo } from '../helpers/repo.js';
import { NOTES, noteOn, notesOf, omniAsync, refValue, refsUnder } from '../helpers/state.js';
import { sync } from '../helpers/sync.js';

afterAll(cleanupAll);

// writeDisplayNote runs git with this process's environment: take the caller's git variables and global config away
beforeAll(() => {
  for (const k of Object.keys(process.env)) if (k.startsWith('GIT_')) delete process.env[k];
  process.env.GIT_CONFIG_NOSYSTEM = '1';
  process.env.GIT_CONFIG_GLOBAL = '/dev/null';
});

/** A remote and two clones; no hooks (the display ref needs none). X is main's commit, T its tree: both clones have them. */
function clones(): { bare: TestRepo; a: TestRepo; b: TestRepo; x: string; t: string } {
  const remote = makeRemote();
  const a = remote.clone('a');
  const b = remote.clone('b');
  return { bare: wrapRepo(remote.bare), a, b, x: a.git(['rev-parse', 'HEAD']).trim(), t: a.git(['rev-parse', 'HEAD^{tree}']).trim() };
}

/** A landed note for `task`: its lines are deliberately not in sorted order (a line sort would show). */
function landed(task: string, by: string): string {
  return landedNoteText(
    {
      task,
      patchset: 1,
      commit: 'c'.repeat(40),
      landed: 'c'.repeat(40),
      base: 'main',
      baseWas: 'b'.repeat(40),
      verified: { spec: 'd'.repeat(40), by, host: 'h/1', at: '2026-01-01T00:00:00.000Z' },
      approvedBy: null,
      landedBy: by,
      landedAt: '2026-01-01T00:01:00.000Z',
      host: 'h/1',
    },
    'Task-Id',
  );
}

/** The display ref's tip and notes in a clone or the remote. */
function display(repo: TestRepo): { tip: string | null; notes: Record<string, string> } {
  const tip = refValue(repo, DISPLAY_REF);
  return { tip, notes: tip ? Object.fromEntries(notesOf(repo, DISPLAY_REF)) : {} };
}

/** All three hold the same display commit. */
function expectConverged(bare: TestRepo, a: TestRepo, b: TestRepo): void {
  const remote = display(bare);
  expect(remote.tip).not.toBeNull();
  expect(display(a)).toEqual(remote);
  expect(display(b)).toEqual(remote);
}

describe('sync carries the display ref', () => {
  it('notes on different objects: each clone gets the other’s, the tracking ref lives outside refs/notes', async () => {
    const { bare, a, b, x, t } = clones();
    await writeDisplayNote(a.dir, x, landed('t-1', 'Ann <a@x>'));
    await writeDisplayNote(b.dir, t, landed('t-2', 'Bob <b@x>'));

    const first = sync(a);
    expect(first.pushed).toEqual([DISPLAY_REF]);
    const second = sync(b);
    expect(second.merged).toEqual([DISPLAY_REF]);
    expect(second.pushed).toEqual([DISPLAY_REF]);
    const third = sync(a);
    expect(third.updatedLocal).toEqual([DISPLAY_REF]);
    expect(third.pushed).toEqual([]);

    expectConverged(bare, a, b);
    expect(display(a).notes).toEqual({ [x]: landed('t-1', 'Ann <a@x>'), [t]: landed('t-2', 'Bob <b@x>') });
    // git log would show it once: the fetched copy is not under refs/notes
    for (const repo of [a, b]) expect([...refsUnder(repo, 'refs/notes/').keys()]).toEqual([DISPLAY_REF]);
    // (B's copy is what it fetched before its push: a push moves no tracking ref of ours)
    expect(refValue(a, remoteDisplayRef('origin'))).toBe(display(bare).tip);
    expect(refValue(b, remoteDisplayRef('origin'))).not.toBeNull();
  });

  it('different notes on one object: whole notes, sorted as strings, joined by a blank line; never a line sort', async () => {
    const { bare, a, b, x } = clones();
    const fromA = landed('t-1', 'Zed <z@x>');
    const fromB = landed('t-1', 'Amy <a@x>');
    await writeDisplayNote(a.dir, x, fromA);
    await writeDisplayNote(b.dir, x, fromB);
    sync(a);
    expect(sync(b).merged).toEqual([DISPLAY_REF]);
    sync(a);
    expectConverged(bare, a, b);
    const [first, second] = [fromA, fromB].sort();
    expect(noteOn(bare, DISPLAY_REF, x)).toBe(`${first}\n${second}`);

    // each clone adds one more to the note both synced: the shared part is not repeated
    const moreA = 'Reverted-By: Zed <z@x>\n';
    const moreB = 'Comment: fine by me\n';
    await writeDisplayNote(a.dir, x, moreA);
    await writeDisplayNote(b.dir, x, moreB);
    sync(a);
    sync(b);
    sync(a);
    expectConverged(bare, a, b);
    const note = noteOn(bare, DISPLAY_REF, x)!;
    expect(note.startsWith(`${first}\n${second}\n`)).toBe(true);
    expect(note.trimEnd().split('\n\n').map((p) => `${p}\n`).sort()).toEqual([fromA, fromB, moreA, moreB].sort());
  });

  it('two clones syncing at the same moment converge on the same note whoever pushed first', async () => {
    const { bare, a, b, x, t } = clones();
    const fromA = landed('t-3', 'Zed <z@x>');
    const fromB = landed('t-3', 'Amy <a@x>');
    await writeDisplayNote(a.dir, x, fromA);
    await writeDisplayNote(b.dir, x, fromB);
    await writeDisplayNote(b.dir, t, fromB);
    // and a JSON-lines log beside it, merged by lines in the same run
    a.git(['notes', `--ref=${NOTES.reviews}`, 'add', '-m', '{"from":"a"}', x]);
    b.git(['notes', `--ref=${NOTES.reviews}`, 'add', '-m', '{"from":"b"}', x]);

    const [ra, rb] = await Promise.all([omniAsync(a.dir, ['sync', '--json']), omniAsync(b.dir, ['sync', '--json'])]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    sync(a);
    sync(b);
    expectConverged(bare, a, b);
    const [first, second] = [fromA, fromB].sort();
    expect(display(bare).notes).toEqual({ [x]: `${first}\n${second}`, [t]: fromB });
    expect(noteOn(bare, NOTES.reviews, x)).toBe('{"from":"a"}\n{"from":"b"}\n');
  });

  it('pushes the display ref in the same atomic push as the logs: a remote that refuses it gets neither', async () => {
    const { bare, a, x } = clones();
    await writeDisplayNote(a.dir, x, landed('t-4', 'Ann <a@x>'));
    a.git(['notes', `--ref=${NOTES.reviews}`, 'add', '-m', '{"from":"a"}', x]);
    const hook = path.join(bare.dir, 'hooks', 'pre-receive');
    fs.writeFileSync(hook, `#!/bin/sh\nwhile read old new ref; do [ "$ref" = "${DISPLAY_REF}" ] && { echo "no display notes here" >&2; exit 1; }; done\nexit 0\n`, { mode: 0o755 });
    const refused = a.omni(['sync']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('no display notes here');
    expect(refused.stderr).toContain(DISPLAY_REF);
    expect(bare.git(['for-each-ref', 'refs/notes'])).toBe('');
    fs.rmSync(hook);
    expect(sync(a).pushed).toEqual([NOTES.reviews, DISPLAY_REF]);
    expect(refValue(bare, DISPLAY_REF)).toBe(refValue(a, DISPLAY_REF));
  });

  it('puts back a display note someone removed from the remote without omni-ship', async () => {
    const { bare, a, b, x, t } = clones();
    await writeDisplayNote(a.dir, x, landed('t-5', 'Ann <a@x>'));
    await writeDisplayNote(a.dir, t, landed('t-6', 'Ann <a@x>'));
    sync(a);
    const plain = wrapRepo(path.join(tempDir('omni-ship-plain-'), 'plain'));
    bare.git(['clone', '-q', bare.dir, plain.dir]);
    plain.git(['fetch', '-q', 'origin', `+${DISPLAY_REF}:${DISPLAY_REF}`]);
    plain.git(['-c', 'user.name=Plain', '-c', 'user.email=p@x', 'notes', `--ref=${DISPLAY_REF}`, 'remove', x]);
    plain.git(['push', '-q', 'origin', DISPLAY_REF]);
    expect(noteOn(bare, DISPLAY_REF, x)).toBeNull();

    const r = sync(a);
    expect(r.restored).toEqual([DISPLAY_REF]);
    expect(r.pushed).toEqual([DISPLAY_REF]);
    sync(b);
    expectConverged(bare, a, b);
    expect(noteOn(bare, DISPLAY_REF, x)).toBe(landed('t-5', 'Ann <a@x>'));
  });
});
