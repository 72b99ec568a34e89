import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskIdFromBranch } from '../../src/ids.js';
import { binDir, head, installedRepo, message, script, settleDrainers, tempFile } from '../helpers/hooks.js';
import { cleanupAll, projectRoot, run, tempDir, testEnv, waitFor, type TestRepo } from '../helpers/repo.js';

const DEFAULT_PATTERNS = { taskPattern: '^t-[0-9]+(\\.[0-9]+)*$', branchPattern: '(^|/)t-[0-9]+(\\.[0-9]+)*($|[-_/])' };

afterAll(async () => {
  await settleDrainers();
  cleanupAll();
});

/** Commits with `git commit --allow-empty <args>` and returns git's result. */
function commit(repo: TestRepo, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  return repo.gitRun(['commit', '-q', '--allow-empty', ...args], { env: testEnv(env) });
}

/** Commits and fails the test unless git succeeded; returns the new commit's message. */
function commitOk(repo: TestRepo, args: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  const r = commit(repo, args, env);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return message(repo);
}

/** The lines of `text` that are exactly `line`. */
function count(text: string, line: string): number {
  return text.split('\n').filter((l) => l === line).length;
}

describe('commit-msg hook: which task', () => {
  let repo: TestRepo;
  beforeAll(() => {
    repo = installedRepo();
  });

  it('adds exactly "Task-Id: t-5" after a blank line on branch t-5', () => {
    repo.git(['switch', '-q', '-c', 't-5']);
    expect(commitOk(repo, ['-m', 'add the login form'])).toBe('add the login form\n\nTask-Id: t-5\n');
    // git itself reads it as the commit's one trailer
    expect(repo.git(['log', '-1', '--format=%(trailers:key=Task-Id,valueonly)'])).toBe('t-5\n\n');
  });

  it.each([
    ['feat/t-565-login', 't-565'],
    ['t-565.2', 't-565.2'],
    ['T-7', 't-7'],
    ['fix/t-12_typo', 't-12'],
    ['t-3/sub-step', 't-3'],
  ])('branch %s gives %s', (branch, id) => {
    // the hook's awk and src/ids.ts must agree on every branch
    expect(taskIdFromBranch(branch, DEFAULT_PATTERNS)).toBe(id);
    repo.git(['switch', '-q', '-c', branch]);
    expect(commitOk(repo, ['-m', `work on ${branch}`])).toBe(`work on ${branch}\n\nTask-Id: ${id}\n`);
  });

  it.each(['main', 'at-5', 'feature-t-5', 't-x'])('a branch that names no task (%s) adds nothing', (branch) => {
    expect(taskIdFromBranch(branch, DEFAULT_PATTERNS)).toBeNull();
    if (branch === 'main') repo.git(['switch', '-q', 'main']);
    else repo.git(['switch', '-q', '-c', branch]);
    expect(commitOk(repo, ['-m', 'no task here'])).toBe('no task here\n');
    // again, now that the hook has remembered this branch
    expect(commitOk(repo, ['-m', 'still none'])).toBe('still none\n');
  });

  it('OMNI_SHIP_TASK wins over the branch', () => {
    repo.git(['switch', '-q', '-c', 't-50']);
    commitOk(repo, ['-m', 'first']); // primes the branch cache: the env must still win on the next commit
    expect(commitOk(repo, ['-m', 'from env'], { OMNI_SHIP_TASK: 't-9' })).toBe('from env\n\nTask-Id: t-9\n');
    expect(commitOk(repo, ['-m', 'upper env'], { OMNI_SHIP_TASK: 'T-9.1' })).toBe('upper env\n\nTask-Id: t-9.1\n');
  });

  it('an invalid OMNI_SHIP_TASK rejects the commit', () => {
    repo.git(['switch', '-q', '-c', 't-51']);
    const before = head(repo);
    const r = commit(repo, ['-m', 'bad env'], { OMNI_SHIP_TASK: 'bogus' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('OMNI_SHIP_TASK=bogus');
    expect(r.stderr).toContain('not a valid task id');
    expect(head(repo)).toBe(before);
  });

  it.each(['Task-Id: t-3', 'task-id: t-3', 'TASK-ID:t-3', 'Task-Id:   t-3'])('keeps an existing "%s" and adds no second one', (trailer) => {
    repo.git(['switch', '-q', '-C', 't-5']);
    expect(commitOk(repo, ['-m', 'subject', '-m', trailer])).toBe(`subject\n\n${trailer}\n`);
    // also inside a longer trailer block, and with OMNI_SHIP_TASK naming another task
    const block = `Signed-off-by: A <a@example.com>\n${trailer}\nReviewed-by: B <b@example.com>`;
    expect(commitOk(repo, ['-m', 'subject', '-m', block], { OMNI_SHIP_TASK: 't-9' })).toBe(`subject\n\n${block}\n`);
  });

  it('OMNI_SHIP_SKIP=1 adds nothing', () => {
    repo.git(['switch', '-q', '-C', 't-5']);
    expect(commitOk(repo, ['-m', 'skipped'], { OMNI_SHIP_SKIP: '1' })).toBe('skipped\n');
    expect(commitOk(repo, ['-m', 'skipped', '-m', 'with a body'], { OMNI_SHIP_SKIP: '1' })).toBe('skipped\n\nwith a body\n');
  });

  it.each(['fixup! add the login form', 'squash! add the login form', 'amend! add the login form'])('"%s" gets no trailer', (subject) => {
    repo.git(['switch', '-q', '-C', 't-5']);
    expect(commitOk(repo, ['-m', subject])).toBe(`${subject}\n`);
    expect(commitOk(repo, ['-m', subject, '-m', 'a body too'])).toBe(`${subject}\n\na body too\n`);
  });

  it('git commit --amend -m puts the trailer back', () => {
    repo.git(['switch', '-q', '-C', 't-5']);
    commitOk(repo, ['-m', 'old text']);
    const parent = repo.git(['rev-parse', 'HEAD^']).trim();
    const r = repo.gitRun(['commit', '-q', '--allow-empty', '--amend', '-m', 'new text']);
    expect(r.code).toBe(0);
    expect(message(repo)).toBe('new text\n\nTask-Id: t-5\n');
    expect(repo.git(['rev-parse', 'HEAD^']).trim()).toBe(parent);
  });
});

describe('commit-msg hook: messages git would abort', () => {
  let repo: TestRepo;
  beforeAll(() => {
    repo = installedRepo();
    repo.git(['switch', '-q', '-c', 't-5']);
  });

  it('an empty -m message fails as git normally does, with no commit', () => {
    const before = head(repo);
    const r = commit(repo, ['-m', '']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Aborting commit due to empty commit message');
    expect(r.stderr).not.toContain('omni-ship');
    expect(head(repo)).toBe(before);
  });

  it('a comment-only message from the editor aborts as usual', () => {
    const before = head(repo);
    const editor = script(`printf '# comment one\\n# comment two\\n\\n' > "$1"\n`);
    const r = repo.gitRun(['commit', '-q', '--allow-empty'], { env: testEnv({ GIT_EDITOR: editor }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Aborting commit due to empty commit message');
    expect(head(repo)).toBe(before);
  });

  it('a whitespace-only -F message aborts as usual', () => {
    const before = head(repo);
    const r = commit(repo, ['-F', tempFile('  \n\n\t\n')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Aborting commit due to empty commit message');
    expect(head(repo)).toBe(before);
  });
});

describe('commit-msg hook: where the trailer goes', () => {
  let repo: TestRepo;
  beforeAll(() => {
    repo = installedRepo();
    repo.git(['switch', '-q', '-c', 't-5']);
  });

  it('git commit -v: the trailer lands above the scissors line and is in the commit', () => {
    // the staged diff holds trailer-like lines below the scissors: they must not count
    repo.write('notes.txt', 'Task-Id: t-9\nReviewed-by: nobody\n');
    repo.git(['add', 'notes.txt']);
    const editor = script(`{ printf 'verbose subject\\n\\nbody line\\n'; cat "$1"; } > "$1.new" && mv "$1.new" "$1"\n`);
    const r = repo.gitRun(['commit', '-q', '-v'], { env: testEnv({ GIT_EDITOR: editor }) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(message(repo)).toBe('verbose subject\n\nbody line\n\nTask-Id: t-5\n');
    // the file the hook edited: one trailer, above the scissors, and the diff below it untouched
    const edited = fs.readFileSync(path.join(repo.dir, '.git', 'COMMIT_EDITMSG'), 'utf8');
    const scissors = edited.indexOf('# ------------------------ >8 ------------------------');
    expect(scissors).toBeGreaterThan(0);
    expect(count(edited, 'Task-Id: t-5')).toBe(1);
    expect(edited.indexOf('Task-Id: t-5')).toBeLessThan(scissors);
    expect(edited.slice(scissors)).toContain('+Task-Id: t-9\n+Reviewed-by: nobody\n');
  });

  it('an editor message with a comment-character other than # keeps the trailer out of the comments', () => {
    repo.git(['config', 'core.commentChar', ';']);
    try {
      const editor = script(`{ printf 'semicolon subject\\n\\n; not in the commit\\n'; cat "$1"; } > "$1.new" && mv "$1.new" "$1"\n`);
      const r = repo.gitRun(['commit', '-q', '--allow-empty'], { env: testEnv({ GIT_EDITOR: editor }) });
      expect(r.code).toBe(0);
      expect(message(repo)).toBe('semicolon subject\n\nTask-Id: t-5\n');
    } finally {
      repo.git(['config', '--unset', 'core.commentChar']);
    }
  });

  it('a body with a "---" line: the trailer goes at the very end, where git finds it', () => {
    const text = 'subject\n\nbody\n---\nafter the dashes\n';
    expect(commitOk(repo, ['-F', tempFile(text)])).toBe(`${text}\nTask-Id: t-5\n`);
    expect(repo.git(['log', '-1', '--format=%(trailers:key=Task-Id,valueonly)'])).toBe('t-5\n\n');
    const trailerLike = 'subject\n\nbody\n---\nKey: value\n';
    expect(commitOk(repo, ['-F', tempFile(trailerLike)])).toBe(`${trailerLike}\nTask-Id: t-5\n`);
  });

  it('a message file with no final newline', () => {
    // --cleanup=verbatim: git hands the hook the file exactly as it is, without the newline
    expect(commitOk(repo, ['--cleanup=verbatim', '-F', tempFile('no newline at the end')])).toBe('no newline at the end\n\nTask-Id: t-5\n');
    expect(commitOk(repo, ['--cleanup=verbatim', '-F', tempFile('subject\n\nbody without newline')])).toBe(
      'subject\n\nbody without newline\n\nTask-Id: t-5\n',
    );
    expect(commitOk(repo, ['--cleanup=verbatim', '-F', tempFile('subject\n\nSigned-off-by: A <a@example.com>')])).toBe(
      'subject\n\nSigned-off-by: A <a@example.com>\nTask-Id: t-5\n',
    );
    expect(commitOk(repo, ['-F', tempFile('subject\n\nbody, default cleanup')])).toBe('subject\n\nbody, default cleanup\n\nTask-Id: t-5\n');
  });

  it('joins an existing trailer block rather than starting a new one', () => {
    expect(commitOk(repo, ['-m', 'subject', '-m', 'Signed-off-by: A <a@example.com>'])).toBe(
      'subject\n\nSigned-off-by: A <a@example.com>\nTask-Id: t-5\n',
    );
  });

  it('keeps every original byte: odd trailer spacing, indentation, trailing blanks', () => {
    const text =
      'subject line  \n' +
      '\n' +
      '  an indented first paragraph\n' +
      'with trailing spaces   \n' +
      '\n' +
      'second paragraph:\twith a tab\n' +
      '\n' +
      'Reviewed-by :  Someone <s@example.com>\n' +
      'Key:value\n' +
      'X-Odd:\tTabbed  \n';
    const file = tempFile(text);
    // git interpret-trailers alone would re-format those lines: the hook must not
    const plain = repo.git(['interpret-trailers', '--trailer', 'Task-Id: t-5', file]);
    expect(plain).not.toBe(`${text}Task-Id: t-5\n`);
    const got = commitOk(repo, ['--cleanup=verbatim', '-F', file]);
    expect(got).toBe(`${text}Task-Id: t-5\n`);
    // the same, said line by line: the original lines in order, plus one
    const lines = got.split('\n');
    const at = lines.indexOf('Task-Id: t-5');
    lines.splice(at, 1);
    expect(lines.join('\n')).toBe(text);
  });

  it('keeps bytes when the trailer starts a new paragraph', () => {
    const text = 'subject\n\nfirst paragraph\n\nlast paragraph, Not-a: trailer block\nbecause this line is prose\n';
    expect(commitOk(repo, ['--cleanup=verbatim', '-F', tempFile(text)])).toBe(`${text}\nTask-Id: t-5\n`);
  });
});

/** Commits with an editor that writes `text` as the message; returns git's result and the file the hook left. */
function editorCommit(repo: TestRepo, text: string, env: NodeJS.ProcessEnv = {}) {
  const editor = script(`cp '${tempFile(text, 'message')}' "$1"\n`);
  const r = repo.gitRun(['commit', '-q', '--allow-empty'], { env: testEnv({ GIT_EDITOR: editor, ...env }) });
  return { ...r, edited: fs.readFileSync(path.join(repo.dir, '.git', 'COMMIT_EDITMSG'), 'utf8') };
}

/** `text` with `line` inserted before line number `at` (0-based). */
function insertLine(text: string, at: number, line: string): string {
  const lines = text.split('\n');
  lines.splice(at, 0, line);
  return lines.join('\n');
}

describe('commit-msg hook: comment lines inside the trailer block', () => {
  let repo: TestRepo;
  beforeAll(() => {
    repo = installedRepo();
    repo.git(['switch', '-q', '-c', 't-2']);
  });

  it.each([
    ['one comment line', 'subj\n\nTask-Id: t-99\n# c1\nReviewed-by: x\n\n# Please enter\n'],
    ['two comment lines', 'subj\n\nTask-Id: t-99\n# c1\n# c2\nReviewed-by: x\n\n# Please enter\n'],
    ['a comment line first in the block', 'subj\n\n# c0\nTask-Id: t-99\nReviewed-by: x\n\n# Please enter\n'],
    ['a comment line after the Task-Id', 'subj\n\nReviewed-by: x\nTask-Id: t-99\n# c1\nSigned-off-by: y\n'],
  ])('an existing Task-Id is kept and no second one is added (%s)', (_what, text) => {
    const r = editorCommit(repo, text);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // the hook changed nothing at all
    expect(r.edited).toBe(text);
    const msg = message(repo);
    expect(count(msg, 'Task-Id: t-99')).toBe(1);
    expect(msg).not.toContain('t-2');
    expect(repo.git(['log', '-1', '--format=%(trailers:key=Task-Id,valueonly)'])).toBe('t-99\n\n');
  });

  it('after an editor, a comment line that git strips does not split a trailer from its continuation line', () => {
    // with the comment, interpret-trailers would read "  indented" as prose and see no trailer block; git stores the
    // message without it, where "  indented" continues the Task-Id trailer
    const text = 'subj\n\nTask-Id: t-99\n# c1\n  indented\nReviewed-by: x\n';
    const r = editorCommit(repo, text);
    expect(r.code).toBe(0);
    expect(r.edited).toBe(text);
    expect(message(repo)).toBe('subj\n\nTask-Id: t-99\n  indented\nReviewed-by: x\n');
  });

  it('a block without a Task-Id gets one line at its end, every other line byte for byte', () => {
    const text = 'subj\n\nA: b\n# c1\n# c2\nReviewed-by:   x\n\n# Please enter\n';
    const r = editorCommit(repo, text);
    expect(r.code).toBe(0);
    expect(r.edited).toBe(insertLine(text, 6, 'Task-Id: t-2'));
    expect(message(repo)).toBe('subj\n\nA: b\nReviewed-by:   x\nTask-Id: t-2\n');
  });

  it('comment lines elsewhere: in the title, the body and after the block', () => {
    const text = 'subj\n# c0\nbody\n# c1\nmore\n\n# c3\nA: b\n# c4\n';
    const r = editorCommit(repo, text);
    expect(r.code).toBe(0);
    expect(r.edited).toBe(insertLine(text, 8, 'Task-Id: t-2'));
    expect(message(repo)).toBe('subj\nbody\nmore\n\nA: b\nTask-Id: t-2\n');
  });

  it('-m: a "#" line in the block is the user’s text, and git’s trailer parsing still skips it', () => {
    expect(commitOk(repo, ['-m', 'subj', '-m', 'A: b\n#x\nTask-Id: t-3'])).toBe('subj\n\nA: b\n#x\nTask-Id: t-3\n');
    expect(commitOk(repo, ['-m', 'subj', '-m', 'A: b\n#x\n#y\nC: d'])).toBe('subj\n\nA: b\n#x\n#y\nC: d\nTask-Id: t-2\n');
    expect(repo.git(['log', '-1', '--format=%(trailers:key=Task-Id,valueonly)'])).toBe('t-2\n\n');
  });

  it('property: any mix of trailers, prose, comments and blank lines ends with exactly one Task-Id trailer, user lines untouched', () => {
    // `git hook run` runs the installed hook as `git commit` would, without making a commit per case; git itself then
    // cleans the message up as commit does (stripspace) and parses its trailers
    const file = tempFile('', 'COMMIT_EDITMSG');
    const line = fc.constantFrom('Reviewed-by: x', 'A:b', 'Key :  v', '# comment', '#', 'some prose', '  indented', 'Signed-off-by: Me <m@e>', '', '   ');
    const blockLine = fc.constantFrom('Reviewed-by: x', 'A:b', 'Key :  v', '# comment', '#', 'Signed-off-by: Me <m@e>', '  indented', 'some prose');
    const taskLine = fc.constantFrom('Task-Id: t-99', 'task-id:t-99', '# Task-Id: t-77');
    const tailLine = fc.constantFrom('', '#', '# Please enter the commit message');
    // a body of any lines, then a last paragraph shaped like a trailer block (comments inside it), then git's tail
    const shape = fc.record({
      body: fc.array(line, { maxLength: 5 }),
      block: fc.array(blockLine, { minLength: 1, maxLength: 6 }),
      task: fc.option(fc.tuple(taskLine, fc.nat(6)), { nil: null }),
      tail: fc.array(tailLine, { maxLength: 3 }),
      // with -m or -F git keeps "#" lines (cleanup=whitespace), after an editor it strips them
      editor: fc.boolean(),
    });
    fc.assert(
      fc.property(shape, ({ body, block, task, tail, editor }) => {
        const last: string[] = [...block];
        if (task) last.splice(Math.min(task[1], last.length), 0, task[0]);
        const text = ['the subject', ...body, '', ...last, ...tail].join('\n') + '\n';
        fs.writeFileSync(file, text);
        const r = repo.gitRun(['hook', 'run', 'commit-msg', '--', file], { env: testEnv({ GIT_EDITOR: editor ? 'vi' : ':' }) });
        expect(r.stderr, text).toBe('');
        expect(r.code, text).toBe(0);
        const edited = fs.readFileSync(file, 'utf8');
        /** The Task-Id trailers of a message, after the clean-up git commit does. */
        const tasks = (msg: string) =>
          repo
            .git(['interpret-trailers', '--parse'], { input: repo.git(['stripspace', ...(editor ? ['--strip-comments'] : [])], { input: msg }) })
            .split('\n')
            .filter((l) => /^task-id: /i.test(l));
        if (tasks(text).length > 0) {
          // the message names its task already: not a byte changes
          expect(edited, text).toBe(text);
          return;
        }
        // else the original plus the trailer line (after a blank line when it starts a paragraph), and that is the one
        const out = edited.split('\n');
        const at = out.indexOf('Task-Id: t-2');
        expect(at, text).toBeGreaterThan(0);
        out.splice(at, 1);
        if (out.join('\n') !== text && out[at - 1] === '') out.splice(at - 1, 1);
        expect(out.join('\n'), text).toBe(text);
        expect(tasks(edited), `${text}---\n${edited}`).toEqual(['Task-Id: t-2']);
      }),
      { numRuns: 60 },
    );
  }, 300_000);
});

describe('commit-msg hook: the fast path for `git commit -m … -m …`', () => {
  it('property: a message of several paragraphs ends exactly as the slow path (git interpret-trailers) leaves it', () => {
    const repo = installedRepo();
    repo.git(['switch', '-q', '-c', 't-2']);
    commitOk(repo, ['-m', 'primes the branch cache']);
    const file = tempFile('', 'COMMIT_EDITMSG');
    const hook = (text: string, env: Record<string, string>) => {
      fs.writeFileSync(file, text);
      const r = repo.gitRun(['hook', 'run', 'commit-msg', '--', file], { env: testEnv({ GIT_EDITOR: ':', ...env }) });
      expect(r.code, JSON.stringify(text)).toBe(0);
      return fs.readFileSync(file, 'utf8');
    };
    // lines that make the last paragraph a trailer block or not, in git's eyes, and lines that only look alike
    const line = fc.constantFrom(
      'some prose',
      'fix: the title style',
      'A: b',
      'Closes #12',
      '  indented',
      '\tindented',
      '(cherry picked from commit 0123456)',
      '#x',
      '---',
      'windows\r',
      '\r',
      '   ',
      'Task-Id: t-99',
      'url http://x',
      // lines only a config or a flag makes special: a comment or a cut under --cleanup=strip, -v, core.commentChar
      '# ------------------------ >8 ------------------------',
      '; ------------------------ >8 ------------------------',
      ';x',
      '@bob',
      ':sparkles: x',
      'Signed-off-by: A <a@example.com>',
    );
    const paragraph = fc.array(line, { minLength: 1, maxLength: 4 });
    const shape = fc.record({
      title: fc.constantFrom('subject', 'feat: subject', 'subject (with parens)'),
      paragraphs: fc.array(paragraph, { minLength: 1, maxLength: 3 }),
      end: fc.constantFrom('\n', '', '\n\n', '\n   \n'),
    });
    fc.assert(
      fc.property(shape, ({ title, paragraphs, end }) => {
        const text = [title, ...paragraphs.map((p) => p.join('\n'))].join('\n\n') + end;
        // OMNI_SHIP_TASK (the branch's own task) always takes the slow path: git interpret-trailers decides
        const slow = hook(text, { OMNI_SHIP_TASK: 't-2' });
        const fast = hook(text, {});
        expect(fast, JSON.stringify(text)).toBe(slow);
      }),
      { numRuns: 120 },
    );
  }, 300_000);

  it('takes no process for a plain body: the trailer follows as a paragraph of its own', () => {
    const repo = installedRepo();
    repo.git(['switch', '-q', '-c', 't-4']);
    commitOk(repo, ['-m', 'primes the branch cache']);
    // the hook run by sh with a PATH that holds nothing: no git, no awk, so only builtins can give the trailer
    const file = tempFile('fix: a thing\n\nwhy it was wrong\nand how\n', 'COMMIT_EDITMSG');
    const hookFile = path.join(repo.dir, '.git', 'hooks', 'commit-msg');
    const r = spawnSync('/bin/sh', [hookFile, file], { cwd: repo.dir, env: { PATH: '/nonexistent', GIT_EDITOR: ':' }, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe('fix: a thing\n\nwhy it was wrong\nand how\n\nTask-Id: t-4\n');
    // and a body that might be a trailer block goes to git: without git on PATH the message stays as it was
    fs.writeFileSync(file, 'fix: a thing\n\nCloses: 12\n');
    spawnSync('/bin/sh', [hookFile, file], { cwd: repo.dir, env: { PATH: '/nonexistent', GIT_EDITOR: ':' }, encoding: 'utf8' });
    expect(fs.readFileSync(file, 'utf8')).toBe('fix: a thing\n\nCloses: 12\n');
  });
});

describe('commit-msg hook: an invalid OMNI_SHIP_TASK', () => {
  it('does not reject a message that names its task itself', () => {
    const repo = installedRepo();
    repo.git(['switch', '-q', '-c', 't-5']);
    expect(commitOk(repo, ['-m', 's', '-m', 'Task-Id: t-7'], { OMNI_SHIP_TASK: 'bad' })).toBe('s\n\nTask-Id: t-7\n');
    expect(commitOk(repo, ['-m', 's', '-m', 'Signed-off-by: A <a@example.com>\ntask-id:t-8'], { OMNI_SHIP_TASK: 'bad' })).toBe(
      's\n\nSigned-off-by: A <a@example.com>\ntask-id:t-8\n',
    );
    // without one, it still rejects the commit, naming the variable
    const before = head(repo);
    const r = commit(repo, ['-m', 's', '-m', 'a body'], { OMNI_SHIP_TASK: 'bad' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('OMNI_SHIP_TASK=bad is not a valid task id');
    expect(head(repo)).toBe(before);
  });
});

describe('commit-msg hook: the user’s trailer.<token>.key makes a block, as for git', () => {
  it('"Closes: #12" under a prose line stays a trailer block when trailer.closes.key is set', () => {
    const repo = installedRepo();
    repo.git(['switch', '-q', '-c', 't-1']);
    const body = 'see the notes below\nCloses: #12';
    // without the key, git sees prose: the trailer starts a new paragraph
    expect(commitOk(repo, ['-m', 'subj', '-m', body])).toBe(`subj\n\n${body}\n\nTask-Id: t-1\n`);
    repo.git(['config', 'trailer.closes.key', 'Closes']);
    // the other trailer.<token>.* settings still change nothing (the command would add a line)
    repo.git(['config', 'trailer.closes.command', 'echo X']);
    repo.git(['config', 'trailer.closes.ifexists', 'replace']);
    repo.git(['config', 'trailer.closes.where', 'start']);
    const got = commitOk(repo, ['-m', 'subj', '-m', body]);
    expect(got).toBe(`subj\n\n${body}\nTask-Id: t-1\n`);
    expect(repo.git(['log', '-1', '--format=%(trailers:key=Closes,valueonly)'])).toBe('#12\n\n');
    expect(repo.git(['log', '-1', '--format=%(trailers:key=Task-Id,valueonly)'])).toBe('t-1\n\n');
    // and from an editor (the same git process also reads the comment character)
    const r = editorCommit(repo, `subj\n\n${body}\n# a comment\n`);
    expect(r.code).toBe(0);
    expect(message(repo)).toBe(`subj\n\n${body}\nTask-Id: t-1\n`);
  });
});

describe('commit-msg hook: the user’s own trailer config changes nothing', () => {
  let repo: TestRepo;
  beforeAll(() => {
    repo = installedRepo();
    repo.git(['switch', '-q', '-c', 't-5']);
    repo.git(['config', 'trailer.ifexists', 'replace']);
    repo.git(['config', 'trailer.where', 'start']);
    repo.git(['config', 'trailer.separators', '#']);
    repo.git(['config', 'trailer.sign.key', 'Signed-off-by: ']);
    repo.git(['config', 'trailer.sign.command', 'echo X']);
  });

  it('a body paragraph gets one trailer at the end', () => {
    expect(commitOk(repo, ['-m', 'subject', '-m', 'body'])).toBe('subject\n\nbody\n\nTask-Id: t-5\n');
  });

  it('an existing trailer block is kept as it is, plus one line', () => {
    expect(commitOk(repo, ['-m', 'subject', '-m', 'Signed-off-by: Me <me@example.com>'])).toBe(
      'subject\n\nSigned-off-by: Me <me@example.com>\nTask-Id: t-5\n',
    );
  });

  it('an existing Task-Id is not doubled (trailer.<token>.command must not shift the lines)', () => {
    expect(commitOk(repo, ['-m', 'subject', '-m', 'Task-Id: t-3'])).toBe('subject\n\nTask-Id: t-3\n');
    expect(commitOk(repo, ['-m', 'subject', '-m', 'Signed-off-by: Me <me@example.com>\nTask-Id: t-3'])).toBe(
      'subject\n\nSigned-off-by: Me <me@example.com>\nTask-Id: t-3\n',
    );
  });

  it('"#" as the user’s separator does not make "Bug #123" a trailer block', () => {
    expect(commitOk(repo, ['-m', 'subject', '-m', 'Bug #123'])).toBe('subject\n\nBug #123\n\nTask-Id: t-5\n');
  });

  it('the same config given with git -c', () => {
    const r = repo.gitRun(['-c', 'trailer.other.key=Other: ', '-c', 'trailer.other.command=echo Y', 'commit', '-q', '--allow-empty', '-m', 's', '-m', 'Task-Id: t-3']);
    expect(r.code).toBe(0);
    expect(message(repo)).toBe('s\n\nTask-Id: t-3\n');
  });

  it('one-line messages, twice (the second takes the fast path)', () => {
    expect(commitOk(repo, ['-m', 'one line'])).toBe('one line\n\nTask-Id: t-5\n');
    expect(commitOk(repo, ['-m', 'one more line'])).toBe('one more line\n\nTask-Id: t-5\n');
  });
});

describe('commit-msg hook: the one-line fast path matches git interpret-trailers', () => {
  // (a message of nothing but a Signed-off-by line is empty for git, which aborts it: commit-msg-cleanup.test.ts)
  const messages = ['feat: x', 'Task-Id: t-1', '   leading spaces', 'tab\tinside', 'quotes \' " $HOME `x` \\n %s', 'Signed-Off-By: A <a@example.com>', 'ünïcödé ✓', 'x:y'];
  it('for one-line messages of every kind', () => {
      const repo = installedRepo();
      repo.git(['switch', '-q', '-c', 't-5']);
      commitOk(repo, ['-m', 'first commit on the branch']);
      // the fast path needs the branch's answer remembered by the commit before
      const cache = fs.readFileSync(path.join(repo.dir, '.git', 'omni-ship', 'branch-task.sh'), 'utf8');
      expect(cache).toContain("_os_cb='t-5'");
      expect(cache).toContain("_os_ct='t-5'");
      for (const m of messages) {
        const expected = repo.git(['interpret-trailers', '--trailer', 'Task-Id: t-5'], { input: `${m}\n` });
        expect(commitOk(repo, ['-m', m]), m).toBe(expected);
      }
  });
});

describe('commit-msg hook: requireTaskId and config changes', () => {
  it('requireTaskId rejects a commit that names no task, and says how to fix it', () => {
    const repo = installedRepo((r) => r.write('.omni-shiprc.json', '{"requireTaskId": true}\n'));
    const before = head(repo);
    for (const attempt of ['one', 'two']) {
      const r = commit(repo, ['-m', `untagged ${attempt}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('requireTaskId');
      expect(r.stderr).toContain('OMNI_SHIP_TASK=t-123 git commit');
      expect(r.stderr).toContain('task branch');
      expect(r.stderr).toContain('git switch -c t-123');
      expect(head(repo)).toBe(before);
    }
    expect(commitOk(repo, ['-m', 'tagged'], { OMNI_SHIP_TASK: 't-1' })).toBe('tagged\n\nTask-Id: t-1\n');
    expect(commitOk(repo, ['-m', 'carries its own', '-m', 'Task-Id: t-2'])).toBe('carries its own\n\nTask-Id: t-2\n');
    repo.git(['switch', '-q', '-c', 't-4']);
    expect(commitOk(repo, ['-m', 'on a task branch'])).toBe('on a task branch\n\nTask-Id: t-4\n');
  });

  it('a config change after install is picked up by the next commit', () => {
    const repo = installedRepo();
    repo.git(['switch', '-q', '-c', 't-5']);
    expect(commitOk(repo, ['-m', 'before'])).toBe('before\n\nTask-Id: t-5\n');
    repo.write('.omni-shiprc.json', '{"trailerKey": "Task"}\n');
    // a one-line message on a remembered branch: the fast path must see the new key too
    expect(commitOk(repo, ['-m', 'after'])).toBe('after\n\nTask: t-5\n');
    expect(commitOk(repo, ['-m', 'after', '-m', 'with a body'])).toBe('after\n\nwith a body\n\nTask: t-5\n');
    // an existing trailer under the new key is kept
    expect(commitOk(repo, ['-m', 'own', '-m', 'Task: t-3'])).toBe('own\n\nTask: t-3\n');
    // a new branch pattern, then removing the config file: back to the defaults
    repo.write('.omni-shiprc.json', '{"branchPattern": "(^|/)t-[0-9]+$", "requireTaskId": true}\n');
    repo.git(['switch', '-q', '-c', 'feat/t-6-x']);
    const before = head(repo);
    const r = commit(repo, ['-m', 'pattern no longer matches']);
    expect(r.code).toBe(1);
    expect(head(repo)).toBe(before);
    fs.rmSync(path.join(repo.dir, '.omni-shiprc.json'));
    expect(commitOk(repo, ['-m', 'defaults again'])).toBe('defaults again\n\nTask-Id: t-6\n');
  });
});

describe('commit-msg hook without node on PATH', () => {
  it('adds the trailer, commits, and the background event still reaches hooks.log', async () => {
    const repo = installedRepo();
    repo.git(['switch', '-q', '-c', 't-5']);
    const bin = binDir(['git', 'sh', 'awk', 'mv', 'rm', 'mkdir', 'cat', 'cp', 'mktemp']);
    const home = tempDir('omni-ship-home-');
    const env = ['-i', `HOME=${home}`, `PATH=${bin}`, 'GIT_CONFIG_NOSYSTEM=1'];
    const noNode = run('/usr/bin/env', [...env, 'sh', '-c', 'command -v node'], { cwd: repo.dir });
    expect(noNode.code).not.toBe(0);
    expect(run('/usr/bin/env', [...env, 'sh', '-c', 'command -v git'], { cwd: repo.dir }).stdout.trim()).toBe(path.join(bin, 'git'));

    const r = run('/usr/bin/env', [...env, 'git', 'commit', '-q', '--allow-empty', '-m', 'no node here'], { cwd: repo.dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(message(repo)).toBe('no node here\n\nTask-Id: t-5\n');
    const sha = head(repo);
    const log = path.join(repo.dir, '.git', 'omni-ship', 'hooks.log');
    const logged = await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes(`post-commit ${sha} refs/heads/t-5`));
    expect(logged).toBe(true);
  });
});

describe('the hook’s awk and src/ids.ts', () => {
  it('property: find the same task in any branch name', () => {
    const awk = path.join(projectRoot, 'hooks', 'trailer.awk');
    const msg = path.join(tempDir('omni-ship-awk-'), 'COMMIT_EDITMSG');
    const sentinel = 'Omni-Ship-Sentinel: x';
    /** What the hook's awk makes of a one-line message on `branch`: the task id it adds, or null. */
    const awkTask = (branch: string): string | null => {
      fs.writeFileSync(msg, 'subject\n');
      const r = spawnSync('awk', ['-f', awk], {
        input: `subject\n\n${sentinel}\n`,
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          GIT_EDITOR: ':',
          OS_MSG: msg,
          OS_SENTINEL: sentinel,
          OS_KEY: 'Task-Id',
          OS_TASK_RE: DEFAULT_PATTERNS.taskPattern,
          OS_BRANCH_RE: DEFAULT_PATTERNS.branchPattern,
          OS_REQUIRE: '0',
          OS_BRANCH: branch,
        },
      });
      expect(r.status, r.stderr).toBe(0);
      const out = fs.readFileSync(msg, 'utf8');
      if (out === 'subject\n') return null;
      const m = /^subject\n\nTask-Id: (.*)\n$/.exec(out);
      expect(m, out).not.toBeNull();
      return m![1]!;
    };
    const part = fc.constantFrom('t', 'T', '-', '_', '/', '.', '0', '1', '7', 'a', 'x', 'feat/', 't-', 'T-', '-login', '.2');
    fc.assert(
      fc.property(fc.array(part, { maxLength: 10 }).map((p) => p.join('')), (branch) => {
        expect(awkTask(branch), branch).toBe(taskIdFromBranch(branch, DEFAULT_PATTERNS));
      }),
      { numRuns: 150, examples: [['T-7'], ['feat/t-565-login'], ['t-565.2'], ['main']] },
    );
  });
});
