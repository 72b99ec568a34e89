import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, makeRepo, testEnv, type TestRepo } from '../helpers/repo.js';
import { commitChange, jsonOf } from '../helpers/state.js';

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

  it('status ignores each damage, answers as a cold read, and stores a good answer again', () => {
    const { repo, stateDir } = repoWithState();
    const file = path.join(stateDir, 'status-cache.json');
    jsonOf(repo.omni(['status', '--json']));
    jsonOf(repo.omni(['status', '--json'])); // the second sight of these refs stores the answer
    const text = fs.readFileSync(file, 'utf8');
    const key = text.slice(0, text.indexOf('\n'));
    const good = JSON.parse(text.slice(key.length + 1));
    for (const [name, damage] of damages) {
      fs.writeFileSync(file, damage(key, good));
      sameAsCold(repo, ['status', '--json'], name);
      // rewritten whole: the key and the answer a cold read gives
      const again = fs.readFileSync(file, 'utf8');
      expect(again.slice(0, key.length + 1), name).toBe(`${key}\n`);
      expect(JSON.parse(again.slice(key.length + 1)), name).toEqual(good);
    }
    fs.writeFileSync(file, damages[1]![1](key, good));
    sameAsCold(repo, ['status'], 'text output');
  }, 600_000);
});

describe('damaged state-cache parts (valid JSON, wrong shapes)', () => {
  const REVIEWS = 'refs_notes_omni-ship_reviews.json';
  const BASE = 'base.json';
  const damages: [string, string, (value: any) => unknown][] = [
    ['objects not a list', REVIEWS, (v) => ({ ...v, objects: 5 })],
    ['an object entry that is a number', REVIEWS, (v) => ({ ...v, objects: [5] })],
    ['events that are not a list', REVIEWS, (v) => ({ ...v, objects: v.objects.map(([o, , b]: any) => [o, 5, b]) })],
    ['a packed event of an unknown type', REVIEWS, (v) => ({ ...v, objects: v.objects.map(([o, , b]: any) => [o, [['bogus', 1, 2, 3]], b]) })],
    ['a packed event too short', REVIEWS, (v) => ({ ...v, objects: v.objects.map(([o, , b]: any) => [o, [['review', '2030-01-01T00:00:00.000Z']], b]) })],
    ['an event object missing fields', REVIEWS, (v) => ({ ...v, objects: v.objects.map(([o, , b]: any) => [o, [{ v: 1, type: 'review' }], b]) })],
    ['an event that is null', REVIEWS, (v) => ({ ...v, objects: v.objects.map(([o, , b]: any) => [o, [null], b]) })],
    ['bad lines that are numbers', REVIEWS, (v) => ({ ...v, objects: v.objects.map(([o, e]: any) => [o, e, [5]]) })],
    ['a tip that is not a string', REVIEWS, (v) => ({ ...v, tip: 5 })],
    ['a value that is null', REVIEWS, () => null],
    ['landed not a list', BASE, (v) => ({ ...v, landed: 5 })],
    ['landed pairs that are not pairs', BASE, (v) => ({ ...v, landed: [5, [1, 2]] })],
    ['a key that is not a string', BASE, (v) => ({ ...v, key: 5 })],
  ];

  it('show and status ignore each damaged part, answer as a cold read, and write the part again', () => {
    const { repo, stateDir } = repoWithState();
    sameAsCold(repo, ['show', 't-1', '--json'], 'first read'); // fills the state cache
    // the base's part as a whole read writes it (an incremental one writes only base-newer.json over it)
    for (const part of [BASE, 'base-newer.json']) fs.rmSync(path.join(stateDir, 'state-cache', part), { force: true });
    sameAsCold(repo, ['show', 't-1', '--json'], 'the base read whole');
    expect(fs.existsSync(path.join(stateDir, 'state-cache', 'base-newer.json'))).toBe(false);
    const goods = new Map([REVIEWS, BASE].map((part) => [part, JSON.parse(fs.readFileSync(path.join(stateDir, 'state-cache', part), 'utf8'))]));
    // show and status in turn: both read the state through the same cache
    damages.forEach(([name, part, damage], i) => {
      const file = path.join(stateDir, 'state-cache', part);
      const good = goods.get(part);
      const args = i % 2 ? ['status', '--json'] : ['show', 't-1', '--json'];
      fs.writeFileSync(file, JSON.stringify({ ...good, value: damage(good.value) }));
      // status's stored answer would spare it reading the state at all
      fs.rmSync(path.join(stateDir, 'status-cache.json'), { force: true });
      sameAsCold(repo, args, `${name}: ${args[0]}`);
      expect(JSON.parse(fs.readFileSync(file, 'utf8')), `${name}: ${args[0]}`).toEqual(good);
    });
  }, 600_000);
});

describe("a base part whose checksum holds but whose landings do not (written by hand)", () => {
  it('status and show scan the base whole instead, answer as a cold read, and write the part again', () => {
    const { repo, stateDir } = repoWithState();
    sameAsCold(repo, ['status', '--json'], 'first read');
    const file = path.join(stateDir, 'state-cache', 'base.json');
    for (const part of ['base.json', 'base-newer.json']) fs.rmSync(path.join(stateDir, 'state-cache', part), { force: true });
    sameAsCold(repo, ['status', '--json'], 'the base read whole');
    const good = fs.readFileSync(file, 'utf8');
    const header = JSON.parse(`${good.slice(0, good.indexOf(',"value":'))}}`);
    for (const landed of ['[5,[1,2]]', '[["t-2","not an object id"]]', '{"t-2":1}']) {
      const body = `{"key":${JSON.stringify(JSON.parse(good.slice(good.indexOf(',"value":') + 9, -1)).key)},"landed":${landed}}`;
      const sum = createHash('sha1').update(body).digest('hex');
      fs.writeFileSync(file, `${JSON.stringify({ ...header, sum }).slice(0, -1)},"value":${body}}`);
      fs.rmSync(path.join(stateDir, 'status-cache.json'), { force: true });
      sameAsCold(repo, ['status', '--json'], `${landed}: status`);
      expect(fs.readFileSync(file, 'utf8'), landed).toBe(good);
      fs.writeFileSync(file, `${JSON.stringify({ ...header, sum }).slice(0, -1)},"value":${body}}`);
      sameAsCold(repo, ['show', 't-2', '--json'], `${landed}: show`);
      expect(fs.readFileSync(file, 'utf8'), landed).toBe(good);
    }
  }, 600_000);
});

describe("the base branch's trailers, read incrementally", () => {
  const TRACE = testEnv({ OMNI_SHIP_TRACE_GIT: '1' });
  /** The `git log` of the base branch the traced run printed (the one without --stdin, which reads the side branches). */
  const baseLog = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('[git] log ') && !l.includes('--stdin'));

  it('after main moves forward, reads only the new commits, and answers as a cold read does', () => {
    const { repo } = repoWithState();
    const old = repo.git(['rev-parse', 'main']).trim();
    expect(repo.omni(['status', '--json']).code).toBe(0);
    commitChange(repo, 'another landing\n\nTask-Id: t-3');
    const traced = repo.omni(['status', '--json', '--all'], { env: TRACE });
    expect(traced.code, traced.stderr).toBe(0);
    const logs = baseLog(traced.stderr);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain(`^${old}`);
    const states = Object.fromEntries(jsonOf(traced).tasks.map((t: any) => [t.id, t.state]));
    expect(states).toMatchObject({ 't-2': 'landed', 't-3': 'landed' });
    sameAsCold(repo, ['status', '--json', '--all'], 'after a forward move');
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
