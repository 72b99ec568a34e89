import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, makeRepo, tempDir, testEnv, type TestRepo } from '../helpers/repo.js';
import { commitChange, jsonOf } from '../helpers/state.js';
import { SortedLines, writeSortedLines } from '../../src/state/sorted-lines.js';
import { encodeEvent, type OmniEvent } from '../../src/notes/events.js';

afterAll(cleanupAll);

const COLD = testEnv({ OMNI_SHIP_NO_CACHE: '1' });

/** A repository with one task that has a patchset, a review and a bad note line, so every cache part has content. */
function repoWithState(): { repo: TestRepo; commit: string; stateDir: string } {
  const repo = makeRepo();
  repo.git(['switch', '-q', '-c', 't-1']);
  const commit = commitChange(repo, 'work');
  expect(repo.omni(['hook', 'post-commit']).code).toBe(0);
  expect(repo.omni(['review', 't-1', '--approve', '-m', 'ok']).code).toBe(0);
  repo.git(['notes', '--ref=omni-ship/reviews', 'append', '-m', 'not json', commit]);
  // a landed task too, so the base branch's part holds something
  repo.git(['switch', '-q', 'main']);
  commitChange(repo, 'landed\n\nTask-Id: t-2');
  return { repo, commit, stateDir: path.join(repo.dir, '.git', 'omni-ship') };
}

/** Runs a read command with the cache and without it: same exit code 0, same stdout and stderr. */
function sameAsCold(repo: TestRepo, args: string[], what: string): void {
  const warm = repo.omni(args);
  const cold = repo.omni(args, { env: COLD });
  expect(cold.code, `${what}: ${cold.stderr}`).toBe(0);
  expect(warm.code, `${what}: ${warm.stderr}`).toBe(0);
  expect(warm.stderr, what).toBe(cold.stderr);
  expect(warm.stdout, what).toBe(cold.stdout);
}

describe('a damaged status-cache.json', () => {
  const damages: [string, (key: string, good: any) => string][] = [
    ['a truncated body', (key, good) => `${key}\n${JSON.stringify(good).slice(0, 40)}`],
    ['tasks that are not objects', (key, good) => `${key}\n${JSON.stringify({ ...good, tasks: [1, null, 'x'] })}`],
    ['a task missing fields', (key, good) => `${key}\n${JSON.stringify({ ...good, tasks: [{ id: 't-1' }] })}`],
    ['a task with an unknown state', (key, good) => `${key}\n${JSON.stringify({ ...good, tasks: good.tasks.map((t: any) => ({ ...t, state: 'bogus' })) })}`],
    ['a task whose live is not a list', (key, good) => `${key}\n${JSON.stringify({ ...good, tasks: good.tasks.map((t: any) => ({ ...t, live: 'abc' })) })}`],
    ['a task whose review is a string', (key, good) => `${key}\n${JSON.stringify({ ...good, tasks: good.tasks.map((t: any) => ({ ...t, review: 'approve' })) })}`],
    ['warnings that are not a list', (key, good) => `${key}\n${JSON.stringify({ ...good, warnings: 5 })}`],
    ['no base', (key, good) => `${key}\n${JSON.stringify({ tasks: good.tasks, warnings: good.warnings })}`],
    ['null', (key) => `${key}\nnull`],
    ['an array', (key) => `${key}\n[]`],
  ];

  it('status --all ignores each damage, answers as a cold read, and stores a good answer again', () => {
    const { repo, stateDir } = repoWithState();
    const file = path.join(stateDir, 'status-cache.json');
    jsonOf(repo.omni(['status', '--json', '--all']));
    jsonOf(repo.omni(['status', '--json', '--all'])); // the second sight of these refs stores the answer
    const text = fs.readFileSync(file, 'utf8');
    const key = text.slice(0, text.indexOf('\n'));
    const good = JSON.parse(text.slice(key.length + 1));
    for (const [name, damage] of damages) {
      fs.writeFileSync(file, damage(key, good));
      sameAsCold(repo, ['status', '--json', '--all'], name);
      // rewritten whole: the key and the answer a cold read gives
      const again = fs.readFileSync(file, 'utf8');
      expect(again.slice(0, key.length + 1), name).toBe(`${key}\n`);
      expect(JSON.parse(again.slice(key.length + 1)), name).toEqual(good);
    }
    fs.writeFileSync(file, damages[1]![1](key, good));
    sameAsCold(repo, ['status', '--all'], 'text output');
  }, 600_000);
});

describe('a damaged status-answer.json (the default listing, stored as printed)', () => {
  const damages: [string, (key: string, meta: any, body: string) => string][] = [
    ['a truncated body', (key, meta, body) => `${key}\n${JSON.stringify(meta)}\n${body.slice(0, 40)}`],
    ['a body changed at the same length', (key, meta, body) => `${key}\n${JSON.stringify(meta)}\n${body.replace('"t-1"', '"t-9"')}`],
    ['no meta line', (key, _meta, body) => `${key}\n${body}`],
    ['meta that is not JSON', (key, _meta, body) => `${key}\n{"validUntil":\n${body}`],
    ['warnings that are not a list', (key, meta, body) => `${key}\n${JSON.stringify({ ...meta, warnings: 5 })}\n${body}`],
    ['a time that is not a number', (key, meta, body) => `${key}\n${JSON.stringify({ ...meta, validUntil: 'never' })}\n${body}`],
    ['an answer past its time', (key, meta, body) => `${key}\n${JSON.stringify({ ...meta, validUntil: 1 })}\n${body.replace('"t-1"', '"t-9"')}`],
  ];

  it('status ignores each damage, answers as a cold read, and stores a good answer again', () => {
    const { repo, stateDir } = repoWithState();
    const file = path.join(stateDir, 'status-answer.json');
    jsonOf(repo.omni(['status', '--json']));
    jsonOf(repo.omni(['status', '--json'])); // the second sight of these refs stores the answer
    const good = fs.readFileSync(file, 'utf8');
    const [key, metaLine] = good.split('\n', 2) as [string, string];
    const meta = JSON.parse(metaLine);
    const body = good.slice(key.length + metaLine.length + 2);
    expect(body).toContain('"t-1"');
    for (const [name, damage] of damages) {
      fs.writeFileSync(file, damage(key, meta, body));
      sameAsCold(repo, ['status', '--json'], name);
      expect(fs.readFileSync(file, 'utf8'), name).toBe(good);
    }
    fs.writeFileSync(file, damages[1]![1](key, meta, body));
    sameAsCold(repo, ['status'], 'text output');
  }, 600_000);
});

describe('damaged state-cache parts (whole files, wrong shapes)', () => {
  const REVIEWS = 'refs_notes_omni-ship_reviews.json';
  const BASE = 'base.json';
  /** Rewrites a notes part (a sorted-lines file) with each note's value changed by `damage`, or its header by `head`. */
  const rewriteNotes = (file: string, damage: (value: any) => unknown, head: (h: any) => any = (h) => h) => {
    const lines = SortedLines.open(file)!;
    const entries = [...lines.entries()].map(([k, v]) => [k, k.includes(':') ? v : JSON.stringify(damage(JSON.parse(v)))] as [string, string]);
    const { lines: _n, size: _s, ...header } = lines.header as any;
    lines.close();
    writeSortedLines(file, head(header), entries);
  };
  /** A notes part as comparable content: its header without the write's random id, and its lines. */
  const notesContent = (file: string) => {
    const lines = SortedLines.open(file)!;
    const { id: _id, ...header } = lines.header as any;
    const out = { header, entries: [...lines.entries()] };
    lines.close();
    return out;
  };
  const notes: [string, (value: any) => unknown, ((h: any) => any)?][] = [
    ['a note that is a number', () => 5],
    ['a note that is a list of one', () => [5]],
    ['events that are not a list', ([, b]) => [5, b]],
    ['a packed event of an unknown type', ([, b]) => [[['bogus', 1, 2, 3]], b]],
    ['a packed event too short', ([, b]) => [[['review', '2030-01-01T00:00:00.000Z']], b]],
    ['an event object missing fields', ([, b]) => [[{ v: 1, type: 'review' }], b]],
    ['an event that is null', ([, b]) => [[null], b]],
    ['bad lines that are numbers', ([e]) => [e, [5]]],
    ['a value that is null', () => null],
    ['a tip that is not a string', (v) => v, (h) => ({ ...h, tip: 5 })],
  ];
  /** Rewrites the base part (a sorted-lines file) with its landings and header changed. */
  const rewriteBase = (file: string, lines: (l: [string, string][]) => [string, string][], head: (h: any) => any = (h) => h) => {
    const part = SortedLines.open(file)!;
    const entries = [...part.entries()];
    const { lines: _n, size: _s, ...header } = part.header as any;
    part.close();
    writeSortedLines(file, head(header), lines(entries));
  };
  const bases: [string, (l: [string, string][]) => [string, string][], ((h: any) => any)?][] = [
    ['a landing that is not an object id', (l) => l.map(([t]) => [t, 'not an object id'])],
    ['a landing that is a number', (l) => l.map(([t]) => [t, '5'])],
    ['a key that is not a string', (l) => l, (h) => ({ ...h, key: 5 })],
    ['tips that are not strings', (l) => l, (h) => ({ ...h, tips: [5] })],
  ];

  it('show and status ignore each damaged part, answer as a cold read, and write the part again', () => {
    const { repo, stateDir } = repoWithState();
    sameAsCold(repo, ['status', '--json', '--all'], 'first read'); // fills the state cache
    // the base's part as a whole read writes it (an incremental one writes only base-newer.json over it)
    for (const part of [BASE, 'base-newer.json']) fs.rmSync(path.join(stateDir, 'state-cache', part), { force: true });
    sameAsCold(repo, ['show', 't-1', '--json'], 'the base read whole');
    expect(fs.existsSync(path.join(stateDir, 'state-cache', 'base-newer.json'))).toBe(false);
    const reviewsFile = path.join(stateDir, 'state-cache', REVIEWS);
    const goodNotes = notesContent(reviewsFile);
    const baseFile = path.join(stateDir, 'state-cache', BASE);
    const goodBase = notesContent(baseFile);
    // show and status in turn: both read the state through the same cache
    const cases = [...notes.map(([name, damage, head]) => [name, () => rewriteNotes(reviewsFile, damage, head), () => notesContent(reviewsFile), goodNotes] as const), ...bases.map(([name, lines, head]) => [name, () => rewriteBase(baseFile, lines, head), () => notesContent(baseFile), goodBase] as const)];
    cases.forEach(([name, damage, content, good], i) => {
      // the notes damaged are t-1's, which show t-1 looks up; the base's landing is t-2's, which only a read of every
      // task looks up (a lookup that never reads a damaged line answers from the lines it reads)
      const args = i % 2 || i >= notes.length ? ['status', '--json', '--all'] : ['show', 't-1', '--json'];
      damage();
      // status's stored answer would spare it reading the state at all
      for (const f of fs.readdirSync(stateDir)) if (f.startsWith('status')) fs.rmSync(path.join(stateDir, f), { force: true, recursive: true });
      sameAsCold(repo, args, `${name}: ${args[0]}`);
      expect(content(), `${name}: ${args[0]}`).toEqual(good);
    });
  }, 600_000);
});

describe("a base part whose structure holds but whose landings do not (written by hand)", () => {
  it('status and show scan the base whole instead, answer as a cold read, and write the part again', () => {
    const { repo, stateDir } = repoWithState();
    sameAsCold(repo, ['status', '--json'], 'first read');
    const file = path.join(stateDir, 'state-cache', 'base.json');
    for (const part of ['base.json', 'base-newer.json']) fs.rmSync(path.join(stateDir, 'state-cache', part), { force: true });
    sameAsCold(repo, ['status', '--json'], 'the base read whole');
    const good = SortedLines.open(file)!;
    const header = { ...(good.header as any) };
    delete header.lines;
    delete header.size;
    const lines = [...good.entries()];
    good.close();
    const content = () => {
      const f = SortedLines.open(file)!;
      const out = [...f.entries()];
      f.close();
      return out;
    };
    for (const bad of ['not an object id', '5', '']) {
      const write = () => writeSortedLines(file, header, lines.map(([t]) => [t, bad]));
      write();
      for (const f of fs.readdirSync(stateDir)) if (f.startsWith('status')) fs.rmSync(path.join(stateDir, f), { force: true });
      sameAsCold(repo, ['status', '--json', '--all'], `${bad}: status`);
      expect(content(), bad).toEqual(lines);
      write();
      sameAsCold(repo, ['show', 't-2', '--json'], `${bad}: show`);
      expect(content(), bad).toEqual(lines);
    }
  }, 600_000);
});

describe("the base branch's trailers, read incrementally", () => {
  const TRACE = testEnv({ OMNI_SHIP_TRACE_GIT: '1' });
  /** The `git log` of the base branch the traced run printed (the one without --stdin, which reads the side branches). */
  const baseLog = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('[git] log ') && !l.includes('--stdin'));

  it('after main moves forward, reads only the new commits (from their loose objects, else with git), and answers as a cold read does', () => {
    const { repo } = repoWithState();
    expect(repo.omni(['status', '--json']).code).toBe(0);
    commitChange(repo, 'another landing\n\nTask-Id: t-3');
    // the new commit is loose: read from its file, no log at all
    const traced = repo.omni(['status', '--json', '--all'], { env: TRACE });
    expect(traced.code, traced.stderr).toBe(0);
    expect(baseLog(traced.stderr)).toEqual([]);
    const states = Object.fromEntries(jsonOf(traced).tasks.map((t: any) => [t.id, t.state]));
    expect(states).toMatchObject({ 't-2': 'landed', 't-3': 'landed' });
    sameAsCold(repo, ['status', '--json', '--all'], 'after a forward move');
    // packed (as after a fetch of many objects, or a gc): one log of what is new
    const old = repo.git(['rev-parse', 'main']).trim();
    commitChange(repo, 'a landing, packed\n\nTask-Id: t-5');
    commitChange(repo, 'and a commit without a trailer', { file: 'plain.txt' });
    repo.git(['repack', '-adq']);
    repo.git(['prune-packed']);
    const packed = repo.omni(['status', '--json', '--all'], { env: TRACE });
    expect(packed.code, packed.stderr).toBe(0);
    const logs = baseLog(packed.stderr);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain(`^${old}`);
    expect(jsonOf(packed).tasks.find((t: any) => t.id === 't-5')?.state).toBe('landed');
    sameAsCold(repo, ['status', '--json', '--all'], 'after a forward move of packed commits');
  });

  it('after main moves forward by commits whose trailers git reads by rules of its own, reads them with git', () => {
    const { repo } = repoWithState();
    expect(repo.omni(['status', '--json']).code).toBe(0);
    // a continuation line and a space before the colon: git's to read
    commitChange(repo, 'odd trailers\n\nTask-Id : t-6\nNote: one\n  two');
    const traced = repo.omni(['status', '--json', '--all'], { env: TRACE });
    expect(traced.code, traced.stderr).toBe(0);
    expect(baseLog(traced.stderr)).toHaveLength(1);
    sameAsCold(repo, ['status', '--json', '--all'], 'after odd trailers');
    // a landing two commits deep, a merge on the way: git's to read too
    repo.git(['switch', '-q', '-c', 'side', 'main~1']);
    commitChange(repo, 'side work\n\nTask-Id: t-7', { file: 'side.txt' });
    repo.git(['switch', '-q', 'main']);
    repo.git(['merge', '-q', '--no-edit', 'side']);
    const merged = repo.omni(['status', '--json', '--all'], { env: TRACE });
    expect(merged.code, merged.stderr).toBe(0);
    expect(baseLog(merged.stderr)).toHaveLength(1);
    sameAsCold(repo, ['status', '--json', '--all'], 'after a merge');
  });

  it("after main fast-forwards into the remote's history, a task landed twice keeps its newer landing (git's to order)", () => {
    const { repo } = repoWithState();
    const bare = tempDir('omni-ship-remote-');
    repo.git(['init', '-q', '--bare', bare]);
    repo.git(['remote', 'add', 'origin', bare]);
    const m1 = repo.git(['rev-parse', 'main']).trim();
    // the remote's main is two landings of t-8 ahead; the local main is behind it
    // a day apart: git log orders its tips' commits by date
    const at = (date: string) => testEnv({ GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
    const m2 = commitChange(repo, 'first landing\n\nTask-Id: t-8', { file: 'a.txt', env: at('2030-01-01T00:00:00Z') });
    const m3 = commitChange(repo, 'landed again\n\nTask-Id: t-8', { file: 'b.txt', env: at('2030-01-02T00:00:00Z') });
    repo.git(['update-ref', 'refs/remotes/origin/main', m3]);
    repo.git(['update-ref', 'refs/heads/main', m1]);
    repo.git(['reset', '-q', '--hard', m1]);
    const landedAt = (r: ReturnType<TestRepo['omni']>) => jsonOf(r).tasks.find((t: any) => t.id === 't-8')?.landedCommit;
    expect(landedAt(repo.omni(['status', '--json', '--all']))).toBe(m3);
    // main moves to m2, a commit the remote's main already holds: listed alone it would look like t-8's landing
    repo.git(['update-ref', 'refs/heads/main', m2, m1]);
    const traced = repo.omni(['status', '--json', '--all'], { env: TRACE });
    expect(traced.code, traced.stderr).toBe(0);
    expect(baseLog(traced.stderr)).toHaveLength(1);
    expect(landedAt(traced)).toBe(m3);
    sameAsCold(repo, ['status', '--json', '--all'], 'after a fast-forward into the remote history');
  });

  it('after main is rewritten (its old tip no longer in its history), reads it whole: a dropped landing is no longer landed', () => {
    const { repo } = repoWithState();
    commitChange(repo, 'a landing to drop\n\nTask-Id: t-4');
    expect(jsonOf(repo.omni(['status', '--json', '--all'])).tasks.find((t: any) => t.id === 't-4')?.state).toBe('landed');
    repo.git(['reset', '-q', '--hard', 'HEAD~1']);
    commitChange(repo, 'something else');
    const traced = repo.omni(['status', '--json', '--all'], { env: TRACE });
    expect(traced.code, traced.stderr).toBe(0);
    // the incremental try, then the whole read
    const logs = baseLog(traced.stderr);
    expect(logs.length).toBe(2);
    expect(logs[1]).not.toContain('^');
    expect(jsonOf(traced).tasks.find((t: any) => t.id === 't-4')).toBeUndefined();
    sameAsCold(repo, ['status', '--json', '--all'], 'after a rewrite');
  });
});

describe('the commits off the base, kept between reads', () => {
  const TRACE = testEnv({ OMNI_SHIP_TRACE_GIT: '1' });
  const sideLogs = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('[git] log ') && l.includes('--stdin'));
  const sideFile = (repo: TestRepo) => path.join(repo.dir, '.git', 'omni-ship', 'state-cache', 'side.json');

  it('are not read again when only main moved, are brought forward when a branch moved, and answer as a cold read', () => {
    const { repo } = repoWithState();
    // a long-lived branch off main, and a task branch
    repo.git(['switch', '-q', '-c', 'next']);
    for (let i = 0; i < 5; i++) commitChange(repo, `next ${i}`, { file: `next-${i}.txt` });
    repo.git(['switch', '-q', 'main']);
    expect(repo.omni(['status', '--json']).code).toBe(0);
    const kept = fs.readFileSync(sideFile(repo), 'utf8');
    // main moves: no log of the branches' commits at all, and the kept commits are not written again
    commitChange(repo, 'a landing\n\nTask-Id: t-7');
    const afterMain = repo.omni(['status', '--json', '--all'], { env: TRACE });
    expect(afterMain.code, afterMain.stderr).toBe(0);
    expect(sideLogs(afterMain.stderr)).toEqual([]);
    expect(fs.readFileSync(sideFile(repo), 'utf8')).toBe(kept);
    sameAsCold(repo, ['status', '--json', '--all'], 'after main moved');
    // a branch moves: one log, of what is new since the tips it was read at
    repo.git(['switch', '-q', 't-1']);
    commitChange(repo, 'more work\n\nTask-Id: t-1');
    repo.git(['switch', '-q', 'main']);
    const afterBranch = repo.omni(['status', '--json', '--all'], { env: TRACE });
    expect(afterBranch.code, afterBranch.stderr).toBe(0);
    expect(sideLogs(afterBranch.stderr)).toHaveLength(1);
    expect(fs.readFileSync(sideFile(repo), 'utf8')).not.toBe(kept);
    sameAsCold(repo, ['status', '--json', '--all'], 'after a branch moved');
    sameAsCold(repo, ['status', '--json'], 'the default listing after a branch moved');
    // a task commit amended: one log of both sides of the moved tip (what is new, what only the old commit
    // reached), no rev-list
    repo.git(['switch', '-q', 't-1']);
    repo.git(['commit', '-q', '--amend', '-m', 'more work, amended\n\nTask-Id: t-1']);
    repo.git(['switch', '-q', 'main']);
    const afterAmend = repo.omni(['status', '--json', '--all'], { env: TRACE });
    expect(afterAmend.code, afterAmend.stderr).toBe(0);
    expect(sideLogs(afterAmend.stderr)).toEqual([expect.stringContaining('--left-right')]);
    expect(afterAmend.stderr.split('\n').filter((l) => l.startsWith('[git] rev-list'))).toEqual([]);
    sameAsCold(repo, ['status', '--json', '--all'], 'after an amend');
    sameAsCold(repo, ['show', 't-1', '--json'], 'show after an amend');
    // a task branch made at a commit inside the long-lived branch (no trailer, no tip until now): its record comes
    // from the kept index, not a log of the whole branch
    repo.git(['branch', 't-8', 'next~2']);
    const afterMade = repo.omni(['status', '--json', '--all'], { env: TRACE });
    expect(afterMade.code, afterMade.stderr).toBe(0);
    expect(sideLogs(afterMade.stderr)).toHaveLength(1);
    expect(jsonOf(afterMade).tasks.find((t: any) => t.id === 't-8').head).toBe(repo.git(['rev-parse', 'next~2']).trim());
    sameAsCold(repo, ['status', '--json', '--all'], 'after a branch was made inside another');
    // a task branch whose tip claims another task, over a commit without a trailer, over its own: the walk down
    // reads the middle commit from the index
    repo.git(['switch', '-q', '-c', 't-9', 'main']);
    commitChange(repo, 'own work\n\nTask-Id: t-9', { file: 't9-own.txt' });
    commitChange(repo, 'no trailer', { file: 't9-plain.txt' });
    commitChange(repo, 'picked from t-2\n\nTask-Id: t-2', { file: 't9-picked.txt' });
    repo.git(['switch', '-q', 'main']);
    sameAsCold(repo, ['status', '--json', '--all'], 'after a branch over a foreign commit');
    expect(jsonOf(repo.omni(['show', 't-9', '--json'])).head).toBe(repo.git(['rev-parse', 't-9~2']).trim());
    // the long-lived branch deleted: what only it reached is dropped (one rev-list of it), what t-8 reaches stays
    repo.git(['branch', '-q', '-D', 'next']);
    const afterDrop = repo.omni(['status', '--json', '--all'], { env: TRACE });
    expect(afterDrop.code, afterDrop.stderr).toBe(0);
    expect(afterDrop.stderr.split('\n').filter((l) => l.startsWith('[git] rev-list --stdin'))).toHaveLength(1);
    sameAsCold(repo, ['status', '--json', '--all'], 'after a branch was deleted');
    sameAsCold(repo, ['show', 't-8', '--json'], 'show after a branch was deleted');
    repo.git(['branch', 'next', 't-8']);
    repo.git(['switch', '-q', 'next']);
    for (let i = 5; i < 7; i++) commitChange(repo, `next ${i}`, { file: `next-${i}.txt` });
    repo.git(['switch', '-q', 'main']);
    // main takes the long-lived branch's commits (a merge): they are off the base no more
    repo.git(['merge', '-q', '--no-edit', 'next']);
    const afterMerge = repo.omni(['status', '--json', '--all'], { env: TRACE });
    expect(afterMerge.code, afterMerge.stderr).toBe(0);
    sameAsCold(repo, ['status', '--json', '--all'], 'after main took a branch');
    sameAsCold(repo, ['show', 't-1', '--json'], 'show after main took a branch');
  }, 300_000);
});

describe('replace refs (git replace), which git log follows', () => {
  it('a replacement made or dropped after the caches were written gives the answer a cold read gives', () => {
    const repo = makeRepo();
    commitChange(repo, 'landed\n\nTask-Id: t-1');
    for (let i = 0; i < 3; i++) expect(jsonOf(repo.omni(['status', '--json', '--all'])).tasks.map((t: any) => t.id)).toEqual(['t-1']);
    expect(jsonOf(repo.omni(['status', '--json'])).counts.landed).toBe(1);
    const plain = repo.git(['commit-tree', 'HEAD^{tree}', '-p', 'HEAD~1', '-m', 'no trailer'], { input: '' }).trim();
    repo.git(['replace', '-f', 'HEAD', plain]);
    sameAsCold(repo, ['status', '--json', '--all'], 'after a replacement');
    sameAsCold(repo, ['status', '--json'], 'the default listing after a replacement');
    expect(jsonOf(repo.omni(['status', '--json'])).counts.landed).toBe(0);
    repo.git(['replace', '-d', 'HEAD']);
    sameAsCold(repo, ['status', '--json', '--all'], 'after the replacement went');
    sameAsCold(repo, ['status', '--json'], 'the default listing after the replacement went');
    expect(jsonOf(repo.omni(['status', '--json'])).counts.landed).toBe(1);
  });
});

describe('a replaced note (git replace of its blob), which git reads in its place', () => {
  it('is read as git reads it when the notes ref moved, not from the object file of the note it replaces', () => {
    const repo = makeRepo();
    repo.git(['switch', '-q', '-c', 't-1']);
    const commit = commitChange(repo, 'work');
    const review = (verdict: string, on = commit) => encodeEvent({ v: 1, type: 'review', at: new Date().toISOString(), by: 'T <t@e>', host: 'h/0', task: 't-1', commit: on, verdict, message: null } as OmniEvent);
    // the log exists and is cached: the next note is read as a change to it
    repo.git(['notes', '--ref=omni-ship/reviews', 'add', '-m', review('approve', 'main'), 'main']);
    for (let i = 0; i < 2; i++) expect(jsonOf(repo.omni(['status', '--json'])).tasks.map((t: any) => t.id)).toEqual(['t-1']);
    repo.git(['notes', '--ref=omni-ship/reviews', 'add', '-m', review('approve'), commit]);
    const note = repo.git(['notes', '--ref=omni-ship/reviews', 'list', commit]).trim();
    const other = repo.git(['hash-object', '-w', '--stdin'], { input: `${review('request-changes')}\n` }).trim();
    repo.git(['replace', '-f', note, other]);
    sameAsCold(repo, ['status', '--json'], 'after a replaced note');
    expect(jsonOf(repo.omni(['status', '--json'])).tasks[0].review.verdict).toBe('request-changes');
  });
});

describe("git's trailer settings (trailer.separators), which change what git log reports as a trailer", () => {
  it('a setting made or dropped after the caches were written gives the answer a cold read gives', () => {
    const repo = makeRepo();
    commitChange(repo, 'landed\n\nTask-Id: t-1');
    // `Task-Id# t-2` is a trailer only where `#` is a separator
    commitChange(repo, 'landed too\n\nTask-Id# t-2', { file: 'two.txt' });
    repo.git(['switch', '-q', '-c', 'wip']);
    commitChange(repo, 'work\n\nTask-Id# t-3', { file: 'three.txt' });
    repo.git(['switch', '-q', 'main']);
    const ids = () => jsonOf(repo.omni(['status', '--json', '--all'])).tasks.map((t: any) => t.id);
    for (let i = 0; i < 2; i++) expect(ids()).toEqual(['t-1']);
    repo.git(['config', 'trailer.separators', ':#']);
    sameAsCold(repo, ['status', '--json', '--all'], 'after trailer.separators was set');
    sameAsCold(repo, ['status', '--json'], 'the default listing after trailer.separators was set');
    expect(ids()).toEqual(['t-1', 't-2', 't-3']);
    repo.git(['config', '--unset', 'trailer.separators']);
    sameAsCold(repo, ['status', '--json', '--all'], 'after trailer.separators was dropped');
    sameAsCold(repo, ['status', '--json'], 'the default listing after trailer.separators was dropped');
    expect(ids()).toEqual(['t-1']);
  });
});

describe('a read killed between the parts it writes (OMNI_SHIP_FAILPOINT)', () => {
  const killedAt = (repo: TestRepo, point: string, args: string[]) => repo.omni(args, { env: testEnv({ OMNI_SHIP_FAILPOINT: point }) });
  const cacheFile = (repo: TestRepo, name: string) => path.join(repo.dir, '.git', 'omni-ship', 'state-cache', name);

  for (const point of ['cache:side-index-written', 'cache:side-summary-written']) {
    it(`${point}: parts of two writes are no cache; the next read answers as a cold read and writes them again`, () => {
      const repo = makeRepo();
      repo.git(['switch', '-q', '-c', 'next']);
      for (let i = 0; i < 3; i++) commitChange(repo, `next ${i}`, { file: `next-${i}.txt` });
      repo.git(['switch', '-q', '-c', 't-1', 'main']);
      commitChange(repo, 'work\n\nTask-Id: t-1', { file: 't1.txt' });
      repo.git(['switch', '-q', 'main']);
      expect(repo.omni(['status', '--json', '--all']).code).toBe(0);
      const summary = fs.readFileSync(cacheFile(repo, 'side.json'), 'utf8');
      // a branch moves: the read that brings the side forward dies between its parts
      repo.git(['switch', '-q', 'next']);
      commitChange(repo, 'next 3\n\nTask-Id: t-2', { file: 'next-3.txt' });
      repo.git(['switch', '-q', 'main']);
      // the index is written whole only past its delta's limit (0 here); else the summary carries the change
      const killed = repo.omni(['status', '--json', '--all'], { env: testEnv({ OMNI_SHIP_FAILPOINT: point, ...(point === 'cache:side-index-written' ? { OMNI_SHIP_DELTA_LIMIT: '0' } : {}) }) });
      expect(killed.code, killed.stderr).toBe(128);
      expect(killed.stdout).toBe('');
      if (point === 'cache:side-index-written') expect(fs.readFileSync(cacheFile(repo, 'side.json'), 'utf8')).toBe(summary);
      else expect(fs.readFileSync(cacheFile(repo, 'side.json'), 'utf8')).not.toBe(summary);
      sameAsCold(repo, ['status', '--json', '--all'], `after a read killed at ${point}`);
      sameAsCold(repo, ['status', '--json'], `the default listing after a read killed at ${point}`);
      expect(jsonOf(repo.omni(['status', '--json', '--all'])).tasks.map((t: any) => t.id)).toEqual(['t-1', 't-2']);
      // and the parts written again are brought forward by the next change, as ever
      repo.git(['switch', '-q', 't-1']);
      commitChange(repo, 'more\n\nTask-Id: t-1', { file: 't1b.txt' });
      repo.git(['switch', '-q', 'main']);
      sameAsCold(repo, ['status', '--json', '--all'], `a change after a read killed at ${point}`);
    });
  }

  for (const point of ['cache:unlinked', 'cache:bulks-written']) {
    it(`${point}: a cache file unlinked and not yet replaced, or bulks written without the overlays over them, are no cache; the next read answers as cold`, () => {
      const repo = makeRepo();
      repo.git(['switch', '-q', '-c', 't-1']);
      const work = commitChange(repo, 'work\n\nTask-Id: t-1', { file: 't1.txt' });
      repo.git(['switch', '-q', 'main']);
      const review = (verdict: string) => encodeEvent({ v: 1, type: 'review', at: new Date().toISOString(), by: 'T <t@e>', host: 'h/0', task: 't-1', commit: work, verdict, message: null } as OmniEvent);
      const note = (verdict: string) => repo.git(['notes', '--ref=refs/notes/omni-ship/reviews', 'append', '-m', review(verdict), work]);
      note('request-changes');
      expect(repo.omni(['status', '--json']).code).toBe(0);
      // a note more: the next read keeps it in the overlays' part, over the bulk the first read wrote
      note('comment');
      expect(repo.omni(['status', '--json']).code).toBe(0);
      expect(Object.keys(JSON.parse(fs.readFileSync(cacheFile(repo, 'notes.newer.json'), 'utf8')).value)).toEqual(['refs/notes/omni-ship/reviews']);
      // the log rewritten to another history (read whole: a new bulk), the overlay of the old one still on disk
      repo.git(['update-ref', '-d', 'refs/notes/omni-ship/reviews']);
      note('approve');
      const killed = killedAt(repo, point, ['status', '--json']);
      expect(killed.code, killed.stderr).toBe(128);
      expect(killed.stdout).toBe('');
      sameAsCold(repo, ['status', '--json', '--all'], `after a read killed at ${point}`);
      sameAsCold(repo, ['status', '--json'], `the default listing after a read killed at ${point}`);
      expect(jsonOf(repo.omni(['status', '--json'])).tasks[0]).toMatchObject({ id: 't-1', review: { verdict: 'approve' } });
      // no temp file of the killed writer is in the way of the next writes
      note('comment');
      sameAsCold(repo, ['status', '--json'], `a note after a read killed at ${point}`);
    });
  }

  it('side index: an amend rides in the summary as a delta over side-all.txt; past the limit the file is written again; answers as cold', () => {
    const repo = makeRepo();
    repo.git(['switch', '-q', '-c', 'next']);
    for (let i = 0; i < 4; i++) commitChange(repo, `next ${i}`, { file: `next-${i}.txt` });
    repo.git(['switch', '-q', '-c', 't-1', 'main']);
    commitChange(repo, 'work\n\nTask-Id: t-1', { file: 't1.txt' });
    repo.git(['switch', '-q', 'main']);
    sameAsCold(repo, ['status', '--json', '--all'], 'first read');
    const sideOf = () => JSON.parse(fs.readFileSync(cacheFile(repo, 'side.json'), 'utf8')).value;
    const allFile = () => fs.readFileSync(cacheFile(repo, 'side-all.txt'), 'latin1');
    const written = allFile();
    const allId = sideOf().allId;
    const env = testEnv({ OMNI_SHIP_DELTA_LIMIT: '4' });
    for (let i = 0; i < 2; i++) {
      // an amend of t-1: one commit added, one gone
      repo.git(['switch', '-q', 't-1']);
      repo.git(['commit', '-q', '--amend', '-m', `work, take ${i}\n\nTask-Id: t-1`]);
      repo.git(['switch', '-q', 'main']);
      expect(repo.omni(['status', '--json', '--all'], { env }).code).toBe(0);
      sameAsCold(repo, ['status', '--json', '--all'], `amend ${i}`);
      expect(allFile()).toBe(written);
      expect(sideOf().allId).toBe(allId);
      expect(sideOf().allDelta.added).toHaveLength(1);
      expect(sideOf().allDelta.removed).toHaveLength(1);
    }
    // three more commits on next: the delta passes 4, the file is written again with every change
    repo.git(['switch', '-q', 'next']);
    for (let i = 4; i < 7; i++) commitChange(repo, `next ${i}`, { file: `next-${i}.txt` });
    repo.git(['switch', '-q', 'main']);
    expect(repo.omni(['status', '--json', '--all'], { env }).code).toBe(0);
    sameAsCold(repo, ['status', '--json', '--all'], 'past the limit');
    expect(sideOf().allId).not.toBe(allId);
    expect(sideOf().allDelta).toBeUndefined();
    expect(allFile()).not.toBe(written);
    // and over the file written again, amends ride in a delta anew
    for (const take of ['again', 'once more']) {
      repo.git(['switch', '-q', 't-1']);
      repo.git(['commit', '-q', '--amend', '-m', `work, ${take}\n\nTask-Id: t-1`]);
      repo.git(['switch', '-q', 'main']);
      sameAsCold(repo, ['status', '--json', '--all'], `amend ${take} after the file was written again`);
      expect(sideOf().allDelta.added).toHaveLength(1);
    }
  });

  it('status:settled-written: a settled file without its table is no table; the next status computes every task', () => {
    const repo = makeRepo();
    // no changes kept in the table: every change of the settled ids writes the settled file again
    const env = testEnv({ OMNI_SHIP_DELTA_LIMIT: '0' });
    commitChange(repo, 'landed\n\nTask-Id: t-1');
    repo.git(['switch', '-q', '-c', 't-2']);
    commitChange(repo, 'work\n\nTask-Id: t-2', { file: 't2.txt' });
    repo.git(['switch', '-q', 'main']);
    expect(repo.omni(['status', '--json'], { env }).code).toBe(0);
    const table = fs.readFileSync(path.join(repo.dir, '.git', 'omni-ship', 'status-table.json'), 'utf8');
    expect(JSON.parse(table).settled).toMatchObject({ count: 1, added: [], removed: [] });
    // a landing on main (by hand: no land event, so not in the window): settled, and the settled ids change
    commitChange(repo, 'landed too\n\nTask-Id: t-3', { file: 't3.txt' });
    const killed = repo.omni(['status', '--json'], { env: { ...env, OMNI_SHIP_FAILPOINT: 'status:settled-written' } });
    expect(killed.code, killed.stderr).toBe(128);
    expect(fs.readFileSync(path.join(repo.dir, '.git', 'omni-ship', 'status-table.json'), 'utf8')).toBe(table);
    sameAsCold(repo, ['status', '--json'], 'after a status killed between its settled ids and its table');
    const after = jsonOf(repo.omni(['status', '--json'], { env }));
    expect(after.counts.landed).toBe(2);
    expect(after.listing.hidden).toBe(2);
    expect(after.tasks.map((t: any) => t.id)).toEqual(['t-2']);
  });

  it('settled ids: a few changes ride in the table, more write the settled file again; answers as cold either way', () => {
    const repo = makeRepo();
    const stateDir = path.join(repo.dir, '.git', 'omni-ship');
    const tableOf = () => JSON.parse(fs.readFileSync(path.join(stateDir, 'status-table.json'), 'utf8'));
    const settledFile = path.join(stateDir, 'status-settled.txt');
    const env = testEnv({ OMNI_SHIP_DELTA_LIMIT: '2' });
    for (let i = 1; i <= 3; i++) commitChange(repo, `landed\n\nTask-Id: t-${i}`, { file: `l${i}.txt` });
    const landEvent = (task: string, at: string) => {
      const landed = repo.git(['log', '--format=%H', `--grep=Task-Id: ${task}$`, 'main']).trim();
      const event = { v: 1, type: 'land', at, by: 'T <t@example.com>', host: 'test/00000000', task, commit: landed, landed, base: 'main' };
      repo.git(['notes', '--ref=omni-ship/lands', 'add', '-m', JSON.stringify(event), landed]);
    };
    // a landing long ago (the lands log exists from the start: a notes ref that comes makes status compute all)
    landEvent('t-3', '2020-01-01T00:00:00.000Z');
    expect(repo.omni(['status', '--json'], { env }).code).toBe(0);
    // three settled at once, over the limit: written to the file
    expect(tableOf().settled).toMatchObject({ count: 3, added: [], removed: [] });
    const first = tableOf().settled.id;
    expect(SortedLines.open(settledFile)?.header.id).toBe(first);
    // one more: kept in the table, the file as it was
    commitChange(repo, 'landed\n\nTask-Id: t-4', { file: 'l4.txt' });
    sameAsCold(repo, ['status', '--json'], 'one settled in the table');
    expect(repo.omni(['status', '--json'], { env }).code).toBe(0);
    expect(tableOf().settled).toEqual({ id: first, count: 4, added: ['t-4'], removed: [] });
    // a settled task in the file that a note names again leaves it (removed): a land event of now puts it in the
    // window, listed again
    landEvent('t-1', new Date().toISOString());
    sameAsCold(repo, ['status', '--json'], 'a settled task named by a note');
    const named = jsonOf(repo.omni(['status', '--json'], { env }));
    expect(named.tasks.map((t: any) => t.id)).toEqual(['t-1']);
    expect(tableOf().settled).toEqual({ id: first, count: 3, added: ['t-4'], removed: ['t-1'] });
    // and a third change passes the limit: the file is written again with every change, under a new id
    commitChange(repo, 'landed\n\nTask-Id: t-5', { file: 'l5.txt' });
    expect(repo.omni(['status', '--json'], { env }).code).toBe(0);
    const settled = tableOf().settled;
    expect(settled).toMatchObject({ count: 4, added: [], removed: [] });
    expect(settled.id).not.toBe(first);
    const file = SortedLines.open(settledFile)!;
    expect([...file.entries()].map(([k]) => k)).toEqual(['t-2', 't-3', 't-4', 't-5']);
    file.close();
    sameAsCold(repo, ['status', '--json'], 'after the settled file was written again');
  });
});
