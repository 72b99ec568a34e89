import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { claimTask, readClaims, releaseClaim, renewClaim, type Claim } from '../../src/pipeline/claims.js';
import { distModule, killChildren, nodeChild } from '../helpers/children.js';
import { cleanupAll, makeRemote, tempDir, wrapRepo, type TestRepo } from '../helpers/repo.js';

afterAll(cleanupAll);
afterEach(killChildren);

const who = (host: string) => ({ host, by: 'Bot <bot@example.com>', role: 'dev' });
const MINUTE = 60_000;

/** The claim refs the bare remote holds. */
function remoteClaims(bare: string): string[] {
  return wrapRepo(bare)
    .git(['for-each-ref', '--format=%(refname)', 'refs/omni-ship/claims/'])
    .split('\n')
    .filter(Boolean);
}

function claimed(r: ReturnType<typeof claimTask>): Claim {
  if (!r.claimed) throw new Error(`not claimed: held by ${r.heldBy.host}`);
  return r.claim;
}

describe('pipeline claims (refs/omni-ship/claims/<task> at the remote)', () => {
  it('one machine claims a task; another sees who holds it and until when, and does not get it', () => {
    const remote = makeRemote();
    const a = remote.clone('a');
    const b = remote.clone('b');
    const mine = claimed(claimTask(a.dir, 'origin', 't-1', who('host-a/1'), 10 * MINUTE));
    expect(mine).toMatchObject({ task: 't-1', host: 'host-a/1', role: 'dev', pid: process.pid });
    expect(Date.parse(mine.expires) - Date.parse(mine.at)).toBe(10 * MINUTE);
    expect(remoteClaims(remote.bare)).toEqual(['refs/omni-ship/claims/t-1']);
    const theirs = claimTask(b.dir, 'origin', 't-1', who('host-b/1'), 10 * MINUTE);
    expect(theirs.claimed).toBe(false);
    expect(!theirs.claimed && theirs.heldBy).toMatchObject({ host: 'host-a/1', commit: mine.commit, expires: mine.expires });
    // another task is free
    expect(claimTask(b.dir, 'origin', 't-2', who('host-b/1'), MINUTE).claimed).toBe(true);
    expect([...readClaims(b.dir, 'origin').keys()].sort()).toEqual(['t-1', 't-2']);
    // sync never copies claims
    expect(b.omni(['sync']).code).toBe(0);
    expect(b.git(['for-each-ref', 'refs/omni-ship/claims/'])).toBe('');
  });

  it('renewal extends a claim; release deletes it; a claim lost to a takeover can be neither renewed nor released', async () => {
    const remote = makeRemote();
    const a = remote.clone('a');
    const b = remote.clone('b');
    const first = claimed(claimTask(a.dir, 'origin', 't-1', who('host-a/1'), 1));
    const renewedLater = renewClaim(a.dir, 'origin', first, MINUTE);
    expect(renewedLater).not.toBeNull();
    expect(Date.parse(renewedLater!.expires)).toBeGreaterThan(Date.parse(first.expires));
    expect(readClaims(b.dir, 'origin').get('t-1')?.commit).toBe(renewedLater!.commit);
    expect(claimTask(b.dir, 'origin', 't-1', who('host-b/1'), MINUTE).claimed).toBe(false);
    // it lapses (a machine that stopped renewing): the next claim takes it over, by compare-and-swap
    const short = renewClaim(a.dir, 'origin', renewedLater!, 1)!;
    await new Promise((r) => setTimeout(r, 20));
    const takeover = claimTask(b.dir, 'origin', 't-1', who('host-b/1'), MINUTE);
    expect(takeover.claimed && takeover.tookOver?.commit).toBe(short.commit);
    // the old holder finds out: it cannot renew or release what is no longer its
    expect(renewClaim(a.dir, 'origin', short, MINUTE)).toBeNull();
    expect(releaseClaim(a.dir, 'origin', short)).toBe(false);
    expect(readClaims(a.dir, 'origin').get('t-1')?.host).toBe('host-b/1');
    expect(releaseClaim(b.dir, 'origin', claimed(takeover))).toBe(true);
    expect(remoteClaims(remote.bare)).toEqual([]);
    expect(readClaims(a.dir, 'origin').size).toBe(0);
  });

  it('twelve processes on two clones claiming one task at once: exactly one gets it', async () => {
    const remote = makeRemote();
    const clones: TestRepo[] = [remote.clone('a'), remote.clone('b')];
    const script = (dir: string, host: string) => `
      const { claimTask } = await import(${JSON.stringify(distModule('pipeline/claims.js'))});
      const r = claimTask(${JSON.stringify(dir)}, 'origin', 't-7', { host: ${JSON.stringify(host)}, by: 'Bot <b@x>', role: 'dev' }, 600000);
      console.log(JSON.stringify({ claimed: r.claimed, commit: r.claimed ? r.claim.commit : r.heldBy.commit }));
    `;
    const children = [...Array(12).keys()].map((i) => nodeChild(script(clones[i % 2]!.dir, `host-${i}`)));
    const answers = await Promise.all(children.map((c) => c.waitForLine((l) => l.startsWith('{'), 60_000).then((l) => JSON.parse(l) as { claimed: boolean; commit: string })));
    const winners = answers.filter((a) => a.claimed);
    expect(winners).toHaveLength(1);
    // every loser saw the winner's claim, which is the one the remote holds
    const held = wrapRepo(remote.bare).git(['rev-parse', 'refs/omni-ship/claims/t-7']).trim();
    expect(winners[0]!.commit).toBe(held);
    for (const a of answers) expect(a.commit).toBe(held);
  });

  it('a remote out of reach: exit 75, nothing claimed', () => {
    const remote = makeRemote();
    const a = remote.clone('a');
    a.git(['remote', 'set-url', 'origin', `${tempDir()}/gone.git`]);
    let error: unknown;
    try {
      claimTask(a.dir, 'origin', 't-1', who('host-a/1'), MINUTE);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(75);
    expect((error as UserError).message).toMatch(/^cannot reach origin to claim tasks: .*gone\.git/);
    expect(remoteClaims(remote.bare)).toEqual([]);
  });
});
