import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeNote, encodeEvent, type BadLine, type OmniEvent, type TaskEvent } from '../../src/notes/events.js';
import { numberedPrefix } from '../../src/pipeline/seq.js';
import { foldTaskRecords, taskObject } from '../../src/pipeline/tasks.js';
import { compareTaskIds } from '../../src/state/tasks.js';

const head = (at: string, by = 'A <a@x>') => ({ v: 1 as const, type: 'task' as const, at, by, host: 'h/0' });
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

describe('task records', () => {
  it('fold the same whatever order the lines come in (sync sorts them)', () => {
    const events: TaskEvent[] = [
      { ...head(at(1)), task: 't-1', op: 'created', title: 'one', description: 'd', parent: null, dependsOn: ['t-2'], priority: 3, namespace: null },
      { ...head(at(2)), task: 't-1', op: 'commented', message: 'first' },
      { ...head(at(3)), task: 't-1', op: 'edited', priority: 0 },
      { ...head(at(4)), task: 't-1', op: 'closed', message: 'dup' },
      { ...head(at(5)), task: 't-1', op: 'reopened' },
      { ...head(at(6)), task: 't-1', op: 'attempt', role: 'dev', message: 'no commit' },
      { ...head(at(7), 'B <b@x>'), task: 't-1', op: 'created', title: 'one again' },
      { ...head(at(2)), task: 't-2', op: 'created', title: 'two' },
      { ...head(at(8)), task: 't-2', op: 'closed' },
    ];
    const expected = foldTaskRecords(events);
    expect(expected.get('t-1')).toMatchObject({
      title: 'one again', // a later create reads as an edit of the fields it carries
      description: 'd',
      dependsOn: ['t-2'],
      priority: 0,
      created: { at: at(1), by: 'A <a@x>' },
      closed: null,
      comments: [{ at: at(2), by: 'A <a@x>', message: 'first' }],
      attempts: [{ at: at(6), by: 'A <a@x>', message: 'no commit', role: 'dev' }],
      updatedAt: at(7),
    });
    expect(expected.get('t-2')?.closed).toMatchObject({ at: at(8), message: null });
    fc.assert(
      fc.property(fc.shuffledSubarray(events, { minLength: events.length }), (shuffled) => {
        expect(foldTaskRecords(shuffled)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('decode as events of their own type: a field of the wrong kind makes the line unusable', () => {
    const good = encodeEvent({ ...head(at(1)), task: 't-1', op: 'created', title: 'x', dependsOn: ['t-2', 't-3'], priority: 1 });
    const bad = [
      encodeEvent({ ...head(at(1)), task: 't-1', op: 'renamed' } as unknown as OmniEvent),
      encodeEvent({ ...head(at(1)), task: 't-1', op: 'created', dependsOn: 't-2' } as unknown as OmniEvent),
      encodeEvent({ ...head(at(1)), task: 't-1', op: 'created', dependsOn: ['T-2'] } as unknown as OmniEvent),
      encodeEvent({ ...head(at(1)), task: 't-1', op: 'created', priority: 'high' } as unknown as OmniEvent),
    ];
    const events: OmniEvent[] = [];
    const lines: BadLine[] = [];
    decodeNote('o', [good, ...bad].join('\n'), events, lines);
    expect(events).toHaveLength(1);
    expect(lines.map((l) => l.reason)).toEqual([
      'bad op "renamed" in a task event',
      'bad dependsOn "t-2" in a task event',
      'bad dependsOn ["T-2"] in a task event',
      'bad priority "high" in a task event',
    ]);
  });

  it("are noted on the id git gives the blob 'omni-ship task <id>\\n', the same on every clone", () => {
    const body = 'omni-ship task t-565\n';
    expect(taskObject('t-565')).toBe(createHash('sha1').update(`blob ${body.length}\0${body}`).digest('hex'));
    expect(taskObject('t-565')).not.toBe(taskObject('t-566'));
  });

  it('sort as people count, and --next finds the numbered form of the task pattern', () => {
    expect(['t-10', 't-2', 't-5.10', 't-5.2', 't-5', 'a-1'].sort(compareTaskIds)).toEqual(['a-1', 't-2', 't-5', 't-5.2', 't-5.10', 't-10']);
    const test = (pattern: string) => (id: string) => new RegExp(pattern).test(id);
    expect(numberedPrefix('^t-[0-9]+(\\.[0-9]+)*$', test('^t-[0-9]+(\\.[0-9]+)*$'))).toBe('t-');
    expect(numberedPrefix('^proj_[0-9]+$', test('^proj_[0-9]+$'))).toBe('proj_');
    expect(numberedPrefix('^[a-z]+-[0-9]+$', test('^[a-z]+-[0-9]+$'))).toBeNull();
  });
});
