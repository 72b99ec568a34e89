import { afterAll, describe, expect, it } from 'vitest';
import { settleDrainers } from '../helpers/hooks.js';
import { PASS, land, landRemote, makeTask, outcomeOf } from '../helpers/land.js';
import { cleanupAll } from '../helpers/repo.js';
import { installHooks } from '../helpers/state.js';

afterAll(async () => {
  await settleDrainers();
  cleanupAll();
});

const DISPLAY = 'refs/notes/omni-ship-landed';

describe('the landed note git log shows', () => {
  it('land writes a short note on the landed commit in the display ref; git log shows it and no JSON; a lost note is written again, the same', () => {
    const fx = landRemote({ steps: [PASS] });
    const { a, bare } = fx;
    installHooks(a);
    const tip0 = a.git(['rev-parse', 'main']).trim();
    makeTask(a, 't-1');
    a.git(['switch', '-q', 'main']);
    a.omni(['review', 't-1', '--approve']);
    const l = land(a, ['t-1']);
    expect(l.r.code, l.r.stderr).toBe(0);
    const landed = outcomeOf(l, 't-1').landed as string;
    const note = a.git(['notes', '--ref', DISPLAY, 'show', landed]);
    expect(note).toMatch(/^Task-Id: t-1\n/);
    expect(note).toContain(`Base: main (was ${tip0.slice(0, 12)})`);
    expect(note).toMatch(/\nVerified-By: Test Author <author@example\.com> on \S+ at \S+, spec [0-9a-f]{12}\n/);
    expect(note).toContain('Approved-By: Test Author <author@example.com>');
    expect(note).toMatch(/\nLanded-By: Test Author <author@example\.com> on \S+ at \S+\n/);
    // install-hooks set notes.displayRef to the display ref alone: plain git log reads well
    const shown = a.git(['log', '-1', landed]);
    expect(shown).toContain('Notes (omni-ship-landed):');
    expect(shown).toContain('    Task-Id: t-1');
    expect(shown).not.toContain('{"v":1');
    // the note went to the remote with the other notes
    expect(bare.git(['notes', '--ref', DISPLAY, 'show', landed])).toBe(note);

    // a land that died between its event and its note: the next land of the task writes it, from the event
    a.git(['update-ref', '-d', DISPLAY]);
    const again = land(a, ['t-1']);
    expect(outcomeOf(again, 't-1')).toMatchObject({ outcome: 'already-landed', landed });
    const rewritten = a.git(['notes', '--ref', DISPLAY, 'show', landed]);
    expect(rewritten).toMatch(/^Task-Id: t-1\n/);
    expect(rewritten).toContain(`Base: main (was ${tip0.slice(0, 12)})`);
    // and once there, landing again changes nothing
    const tipBefore = a.git(['rev-parse', DISPLAY]).trim();
    land(a, ['t-1']);
    expect(a.git(['rev-parse', DISPLAY]).trim()).toBe(tipBefore);
  });
});
