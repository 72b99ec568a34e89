import { afterAll, describe, expect, it } from 'vitest';
import { PASS, allRefs, landLocal, makeTask } from '../helpers/land.js';
import { cleanupAll, omniShip, tempDir } from '../helpers/repo.js';

afterAll(cleanupAll);

describe('omni-ship land (the built bin)', () => {
  it('land --help lists every option, the ship alias and the exit codes 0, 1, 2, 3 and 75', () => {
    const r = omniShip(['land', '--help'], { cwd: tempDir() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: omni-ship land\|ship /m);
    for (const option of ['--all', '--dry-run', '--no-push', '--keep-branch', '--base <branch>', '--remote <name>', '--batch-size <n>', '--require-cached', '--json']) {
      expect(r.stdout).toContain(option);
    }
    expect(r.stdout).toContain('Examples:');
    const codes = /Exit codes:(.*)/.exec(r.stdout)?.[1] ?? '';
    expect(codes).toMatch(/\b0 every task landed\b/);
    expect(codes).toMatch(/\b1 a gate refused\b/);
    expect(codes).toMatch(/\b2 bad usage\b/);
    expect(codes).toMatch(/\b3 conflict or lost race\b/);
    expect(codes).toMatch(/\b75 verify gave no answer\b/);
    const ship = omniShip(['ship', '--help'], { cwd: tempDir() });
    expect(ship.code).toBe(0);
    expect(ship.stdout).toBe(r.stdout);
  });

  it('land with no task ids exits 2 with a message and a hint on stderr, nothing on stdout, nothing written', () => {
    const repo = landLocal({ steps: [PASS] });
    makeTask(repo, 't-1');
    repo.git(['switch', '-q', 'main']);
    const before = allRefs(repo);
    for (const args of [['land'], ['land', '--json'], ['ship']]) {
      const r = repo.omni(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^omni-ship: name the task\(s\) to land, or --all$/m);
      expect(r.stderr).toMatch(/^hint: /m);
    }
    expect(allRefs(repo)).toBe(before);
  });

  it('a bad --batch-size exits 2 naming it', () => {
    const repo = landLocal({ steps: [PASS] });
    makeTask(repo, 't-1');
    const r = repo.omni(['land', 't-1', '--batch-size', '0']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("--batch-size must be a whole number from 1 to 100, not '0'");
  });

  it('--json prints one JSON document that parses, landed or refused', () => {
    const repo = landLocal({ steps: [PASS] });
    const t1 = makeTask(repo, 't-1');
    repo.git(['switch', '-q', 'main']);
    const landed = repo.omni(['land', 't-1', '--json']);
    expect(landed.code, landed.stderr).toBe(0);
    const out = JSON.parse(landed.stdout);
    expect(out).toMatchObject({ base: 'main', remote: null, pushed: false, dryRun: false, warnings: [] });
    expect(out.tasks).toEqual([expect.objectContaining({ task: 't-1', outcome: 'landed', commit: t1, landed: t1, exitCode: 0 })]);

    const unknown = repo.omni(['land', 't-404', '--json']);
    expect(unknown.code).toBe(2);
    const refused = JSON.parse(unknown.stdout);
    expect(refused.tasks).toEqual([expect.objectContaining({ task: 't-404', outcome: 'refused', gate: 'unknown-task', exitCode: 2 })]);
    expect(refused.tasks[0].reason).toContain('no task t-404 here');
  });

  it('the text answer names the task, the landed commit and the move of the base', () => {
    const repo = landLocal({ steps: [PASS] });
    const t1 = makeTask(repo, 't-1');
    repo.git(['switch', '-q', 'main']);
    const r = repo.omni(['land', 't-1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`landed t-1 as ${t1.slice(0, 12)} on main`);
    expect(r.stdout).toMatch(/^main: [0-9a-f]{12} -> [0-9a-f]{12} \(local only\)$/m);
  });
});
