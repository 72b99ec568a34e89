import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { DISPLAY_REF, landedNoteText, writeDisplayNote } from '../../src/notes/display.js';
import { commitNotesCas } from '../../src/notes/write.js';
import { cleanupAll, makeRepo, projectRoot, tempDir, waitForDrain, type TestRepo } from '../helpers/repo.js';
import { NOTES, commitChange, installHooks, noteOn, refValue, refsUnder, runAsync } from '../helpers/state.js';

afterAll(cleanupAll);

// writeDisplayNote runs git with this process's environment: take the caller's git variables and global config away
beforeAll(() => {
  for (const k of Object.keys(process.env)) if (k.startsWith('GIT_')) delete process.env[k];
  process.env.GIT_CONFIG_NOSYSTEM = '1';
  process.env.GIT_CONFIG_GLOBAL = '/dev/null';
});

/** The paths in the display ref's tree that hold a note for `object`, whatever their fanout. */
function notePaths(repo: TestRepo, object: string): string[] {
  return repo
    .git(['ls-tree', '-r', '--name-only', DISPLAY_REF])
    .split('\n')
    .filter((p) => p.replace(/\//g, '') === object);
}

/** `count` commits on main, oldest first. */
function commits(repo: TestRepo, count: number): string[] {
  return Array.from({ length: count }, (_, i) => commitChange(repo, `commit ${i}`));
}

const landed = (task: string) =>
  landedNoteText(
    {
      task,
      patchset: 1,
      commit: 'a'.repeat(40),
      landed: 'a'.repeat(40),
      base: 'main',
      baseWas: 'b'.repeat(40),
      verified: null,
      approvedBy: 'Bob <b@x>',
      landedBy: 'Ann <a@x>',
      landedAt: '2026-01-02T03:04:05.000Z',
      host: 'host/clone',
    },
    'Task-Id',
  );

describe('writeDisplayNote', () => {
  it('writes a note in refs/notes/omni-ship-landed, outside the JSON-lines logs', async () => {
    const repo = makeRepo();
    const head = repo.git(['rev-parse', 'HEAD']).trim();
    const text = landed('t-1');
    await writeDisplayNote(repo.dir, head, text);
    expect(DISPLAY_REF).toBe('refs/notes/omni-ship-landed');
    expect(noteOn(repo, DISPLAY_REF, head)).toBe(text);
    expect([...refsUnder(repo, 'refs/notes/').keys()]).toEqual([DISPLAY_REF]);
    // no private ref of the write is left behind
    expect([...refsUnder(repo, 'refs/omni-ship/tmp').keys()]).toEqual([]);
  });

  it('is idempotent: the same text again writes nothing, not even a commit', async () => {
    const repo = makeRepo();
    const head = repo.git(['rev-parse', 'HEAD']).trim();
    await writeDisplayNote(repo.dir, head, landed('t-1'));
    const tip = refValue(repo, DISPLAY_REF);
    await writeDisplayNote(repo.dir, head, landed('t-1'));
    // without its final newline too: the note holds those lines already
    await writeDisplayNote(repo.dir, head, landed('t-1').trimEnd());
    expect(refValue(repo, DISPLAY_REF)).toBe(tip);
    expect(noteOn(repo, DISPLAY_REF, head)).toBe(landed('t-1'));
  });

  it('keeps two different texts whole, existing first, a blank line between; a text held already is not added again', async () => {
    const repo = makeRepo();
    const head = repo.git(['rev-parse', 'HEAD']).trim();
    const first = landed('t-2');
    const second = 'zz: written later\naa: not sorted before it\n';
    await writeDisplayNote(repo.dir, head, first);
    await writeDisplayNote(repo.dir, head, second);
    expect(noteOn(repo, DISPLAY_REF, head)).toBe(`${first}\n${second}`);
    const tip = refValue(repo, DISPLAY_REF);
    await writeDisplayNote(repo.dir, head, first);
    await writeDisplayNote(repo.dir, head, second);
    expect(refValue(repo, DISPLAY_REF)).toBe(tip);
  });

  it('adds to a note where it sits, whatever its fanout: never a second note for one object', async () => {
    const repo = makeRepo();
    const [c1, c2] = commits(repo, 2) as [string, string];
    // notes at the two paths git's own notes code uses in big trees (2/2/36) and in small ones (no fanout)
    const fanned = `${c1.slice(0, 2)}/${c1.slice(2, 4)}/${c1.slice(4)}`;
    expect(commitNotesCas(repo.dir, DISPLAY_REF, null, new Map([[fanned, 'by hand\n'], [c2, 'also by hand\n']]), 'seed\n')).toBe(true);
    await writeDisplayNote(repo.dir, c1, 'from land\n');
    await writeDisplayNote(repo.dir, c2, 'from land too\n');
    expect(notePaths(repo, c1)).toEqual([fanned]);
    expect(notePaths(repo, c2)).toEqual([c2]);
    expect(noteOn(repo, DISPLAY_REF, c1)).toBe('by hand\n\nfrom land\n');
    expect(noteOn(repo, DISPLAY_REF, c2)).toBe('also by hand\n\nfrom land too\n');
  });

  it('refuses what is not a full object id, an empty text, and a display ref that points at a blob (writing nothing)', async () => {
    const repo = makeRepo();
    const head = repo.git(['rev-parse', 'HEAD']).trim();
    await expect(writeDisplayNote(repo.dir, head.slice(0, 12), 'x\n')).rejects.toThrow(/not a full object id/);
    await expect(writeDisplayNote(repo.dir, head, '\n\n')).rejects.toThrow(/empty/);
    expect(refValue(repo, DISPLAY_REF)).toBeNull();
    const blob = repo.git(['hash-object', '-w', '--stdin'], { input: 'not notes\n' }).trim();
    repo.git(['update-ref', DISPLAY_REF, blob]);
    const refused = writeDisplayNote(repo.dir, head, 'x\n');
    await expect(refused).rejects.toBeInstanceOf(UserError);
    await expect(refused).rejects.toThrow(/points at a blob/);
    expect(refValue(repo, DISPLAY_REF)).toBe(blob);
  });
});

describe('concurrent display writers', () => {
  /** A script that writes one display note with the built module, as a separate process (its own git calls, its own races). */
  function writerScript(): string {
    const module = pathToFileURL(path.join(projectRoot, 'dist', 'notes', 'display.js')).href;
    const file = path.join(tempDir('omni-ship-writer-'), 'write.mjs');
    fs.writeFileSync(file, `import { writeDisplayNote } from ${JSON.stringify(module)};\nawait writeDisplayNote(process.argv[2], process.argv[3], process.argv[4]);\n`);
    return file;
  }

  it('20 processes writing notes on 20 objects at once lose none', async () => {
    const repo = makeRepo();
    const objects = commits(repo, 20);
    const script = writerScript();
    const results = await Promise.all(objects.map((o, i) => runAsync(process.execPath, [script, repo.dir, o, landed(`t-${i + 1}`)], { cwd: repo.dir })));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    objects.forEach((o, i) => expect(noteOn(repo, DISPLAY_REF, o), o).toBe(landed(`t-${i + 1}`)));
    expect(repo.git(['notes', `--ref=${DISPLAY_REF}`, 'list']).trim().split('\n')).toHaveLength(20);
    expect([...refsUnder(repo, 'refs/omni-ship/tmp').keys()]).toEqual([]);
  });

  it('8 processes writing different texts on one object at once: every text is kept whole, once', async () => {
    const repo = makeRepo();
    const head = repo.git(['rev-parse', 'HEAD']).trim();
    const script = writerScript();
    const texts = Array.from({ length: 8 }, (_, i) => landed(`t-${i + 1}`));
    const results = await Promise.all(texts.map((t) => runAsync(process.execPath, [script, repo.dir, head, t], { cwd: repo.dir })));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const paragraphs = noteOn(repo, DISPLAY_REF, head)!.trimEnd().split('\n\n');
    expect(paragraphs.map((p) => `${p}\n`).sort()).toEqual([...texts].sort());
  });
});

describe('git log in an installed repository', () => {
  it('shows the display note of a landed commit and none of the JSON lines', async () => {
    const repo = makeRepo();
    installHooks(repo);
    repo.git(['switch', '-q', '-c', 't-7']);
    const commit = commitChange(repo, 'work on t-7');
    expect(await waitForDrain(repo)).toBe(true);
    expect(noteOn(repo, NOTES.patchsets, commit)).toContain('"type":"patchset"');
    const text = landed('t-7');
    await writeDisplayNote(repo.dir, commit, text);

    const log = repo.git(['log', '-1', commit]);
    expect(log).toContain('Notes (omni-ship-landed):');
    for (const line of text.trimEnd().split('\n')) expect(log).toContain(`    ${line}\n`);
    expect(log).not.toContain('"type"');
    expect(log).not.toContain('omni-ship/patchsets');
    // the JSON log is one --notes away
    expect(repo.git(['log', '-1', `--notes=${NOTES.patchsets}`, commit])).toContain('"type":"patchset"');
  });
});
