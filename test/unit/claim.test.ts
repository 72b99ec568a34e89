import { describe, expect, it } from 'vitest';
import { trailerClaim, trailerValues } from '../../src/notes/claim.js';

const patterns = { taskPattern: '^t-[0-9]+(\\.[0-9]+)*$' };

describe('which task a commit claims by its trailers', () => {
  it('reads the values git prints, keeping an empty one (no trailer at all reads as none)', () => {
    expect(trailerValues('')).toEqual([]);
    expect(trailerValues('\n')).toEqual([]);
    expect(trailerValues('Task-Id\x1ct-1')).toEqual(['t-1']);
    expect(trailerValues('Task-Id\x1c')).toEqual(['']);
    expect(trailerValues('task-id\x1c T-1 \x1dTask-Id\x1cnope')).toEqual(['T-1', 'nope']);
  });

  it('none without a trailer; the task for one distinct valid id; no task for an invalid, empty or second id', () => {
    expect(trailerClaim([], patterns)).toEqual({ kind: 'none' });
    expect(trailerClaim(['t-1'], patterns)).toEqual({ kind: 'task', task: 't-1' });
    expect(trailerClaim(['T-1', 't-1'], patterns)).toEqual({ kind: 'task', task: 't-1' });
    expect(trailerClaim(['nope'], patterns)).toEqual({ kind: 'bad', reason: "its Task-Id 'nope' is not a valid task id" });
    expect(trailerClaim([''], patterns)).toMatchObject({ kind: 'bad' });
    expect(trailerClaim(['t-1', 'nope'], patterns)).toMatchObject({ kind: 'bad' });
    expect(trailerClaim(['t-1', 't-2'], patterns)).toEqual({ kind: 'bad', reason: 'it names several tasks (t-1, t-2)' });
  });
});
