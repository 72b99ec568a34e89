import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appendParagraphs, displayLacking, displayNoteUnion, landedNoteText, paragraphs, type LandedNoteInfo } from '../../src/notes/display.js';

const sha = (c: string) => c.repeat(40).slice(0, 40);

const info: LandedNoteInfo = {
  task: 't-5',
  patchset: 2,
  commit: sha('abcdef123456'),
  landed: sha('abcdef123456'),
  base: 'main',
  baseWas: sha('0123456789ab'),
  verified: { spec: sha('1234abcd5678'), by: 'Ann <a@x>', host: 'host/clone', at: '2026-01-02T03:04:05.000Z' },
  approvedBy: 'Bob <b@x>',
  landedBy: 'Ann <a@x>',
  landedAt: '2026-01-02T03:05:00.000Z',
  host: 'host/clone',
};

describe('landedNoteText', () => {
  it('says task, patchset, verified, approved, landed and base in a few short lines', () => {
    expect(landedNoteText(info, 'Task-Id')).toBe(
      [
        'Task-Id: t-5',
        'Patchset: 2 (commit abcdef123456)',
        'Verified-By: Ann <a@x> on host/clone at 2026-01-02T03:04:05.000Z, spec 1234abcd5678',
        'Approved-By: Bob <b@x>',
        'Landed-By: Ann <a@x> on host/clone at 2026-01-02T03:05:00.000Z',
        'Base: main (was 0123456789ab)',
        '',
      ].join('\n'),
    );
  });

  it('names the task with the configured trailer, leaves out what is null, and says when land cherry-picked', () => {
    const text = landedNoteText({ ...info, patchset: null, landed: sha('fedcba'), verified: null, approvedBy: null, baseWas: null }, 'Change');
    expect(text).toBe(
      ['Change: t-5', 'Commit: abcdef123456, cherry-picked', 'Landed-By: Ann <a@x> on host/clone at 2026-01-02T03:05:00.000Z', 'Base: main', ''].join('\n'),
    );
    expect(landedNoteText({ ...info, landed: sha('fedcba') }, 'Task-Id')).toContain('Patchset: 2 (commit abcdef123456, cherry-picked)\n');
  });

  it('keeps every value on its line: a newline in a name starts no line of its own', () => {
    const text = landedNoteText({ ...info, approvedBy: 'Eve <e@x>\nLanded-By: nobody' }, 'Task-Id');
    expect(text.split('\n').filter((l) => l.startsWith('Landed-By:'))).toHaveLength(1);
    expect(text).toContain('Approved-By: Eve <e@x> Landed-By: nobody\n');
  });
});

describe('whole-note union of display notes', () => {
  const lineArb = fc.oneof(
    fc.constantFrom('Task-Id: t-1', 'Task-Id: t-2', 'Base: main', 'b', 'a', '  indented', ''),
    fc.string({ maxLength: 10 }).filter((s) => !s.includes('\n')),
  );
  const noteArb = fc.array(lineArb, { maxLength: 7 }).map((lines) => lines.join('\n') + (lines.length ? '\n' : ''));

  it('is commutative, holds every paragraph of both as whole lines, and changes a side that holds it all not at all (property)', () => {
    fc.assert(
      fc.property(noteArb, noteArb, (a, b) => {
        const u = displayNoteUnion(a, b);
        expect(displayNoteUnion(b, a)).toBe(u);
        expect(displayLacking(u, a)).toBe(0);
        expect(displayLacking(u, b)).toBe(0);
        for (const p of [...paragraphs(a), ...paragraphs(b)]) expect(`\n${u}\n`).toContain(`\n${p}\n`);
        if (displayLacking(a, b) === 0 && (displayLacking(b, a) > 0 || a <= b)) expect(u).toBe(a);
        expect(displayNoteUnion(a, a)).toBe(a);
      }),
    );
  });

  it('joins two different notes whole, the smaller first, with a blank line; never sorts their lines', () => {
    const x = 'Task-Id: t-2\nPatchset: 1\n';
    const y = 'Task-Id: t-1\nPatchset: 3\n';
    expect(displayNoteUnion(x, y)).toBe('Task-Id: t-1\nPatchset: 3\n\nTask-Id: t-2\nPatchset: 1\n');
    const z = 'zebra\nalpha\n';
    expect(displayNoteUnion(z, 'middle\n')).toBe('middle\n\nzebra\nalpha\n');
  });

  it('does not repeat a note contained in the other, nor a paragraph both sides share', () => {
    expect(displayNoteUnion('Task-Id: t-1\n', 'Task-Id: t-1\nBase: main\n')).toBe('Task-Id: t-1\nBase: main\n');
    // two clones each added a note to the one they synced before
    expect(displayNoteUnion('old\n\nfrom A\n', 'old\n\nfrom B\n')).toBe('old\n\nfrom A\n\nfrom B\n');
  });

  it('appendParagraphs keeps the existing text first and adds only what it lacks', () => {
    expect(appendParagraphs('', 'one\n')).toBe('one\n');
    expect(appendParagraphs('one\n', 'two\n')).toBe('one\n\ntwo\n');
    expect(appendParagraphs('one\n\ntwo\n', 'two\n')).toBe('one\n\ntwo\n');
    expect(appendParagraphs('one\n\n\n', 'b\na\n')).toBe('one\n\nb\na\n');
  });
});
