import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { head, installedRepo, message, script, settleDrainers, tempFile } from '../helpers/hooks.js';
import { cleanupAll, testEnv, type TestRepo } from '../helpers/repo.js';

// commit-msg decides as git 2.39 does: which comment character (core.commentChar=auto), whether git cuts at the
// scissors line, which cleanup mode applies (flags reach the hook only through the command line of `git commit`),
// which branch a rebase rebuilds, which task an amend keeps. Every case is a real `git commit`.

afterAll(async () => {
  await settleDrainers();
  cleanupAll();
});

const SCISSORS = '------------------------ >8 ------------------------';

/** The Task-Id values git itself reads from a commit's message. */
function tasks(repo: TestRepo, rev = 'HEAD'): string {
  return repo.git(['log', '-1', '--format=%(trailers:key=Task-Id,valueonly,separator=%x2C)', rev]).trim();
}

/** `git [pre…] commit -q --allow-empty <args>` with an editor that puts `text` above what git wrote. */
function editorCommit(repo: TestRepo, text: string, args: readonly string[] = [], pre: readonly string[] = [], env: NodeJS.ProcessEnv = {}) {
  const editor = script(`cat '${tempFile(text, 'message')}' "$1" > "$1.new" && mv "$1.new" "$1"\n`);
  return repo.gitRun([...pre, 'commit', '-q', '--allow-empty', ...args], { env: testEnv({ GIT_EDITOR: editor, ...env }) });
}

/** `git [pre…] commit -q --allow-empty <args>`, no editor. */
function commit(repo: TestRepo, args: readonly string[], pre: readonly string[] = [], env: NodeJS.ProcessEnv = {}) {
  return repo.gitRun([...pre, 'commit', '-q', '--allow-empty', ...args], { env: testEnv(env) });
}

/** Checks a commit went through cleanly and returns its message. */
function ok(repo: TestRepo, r: { code: number; stderr: string }): string {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return message(repo);
}

/** Checks git aborted the commit for an empty message and made nothing. */
function abortedEmpty(repo: TestRepo, before: string, r: { code: number; stderr: string }, why = 'Aborting commit due to empty commit message') {
  expect(r.stderr).toContain(why);
  expect(r.stderr).not.toContain('omni-ship');
  expect(r.code).toBe(1);
  expect(head(repo)).toBe(before);
}

describe('commit-msg: core.commentChar=auto comments with the one character git chose', () => {
  let repo: TestRepo;
  beforeAll(() => {
    repo = installedRepo();
    repo.git(['switch', '-q', '-c', 't-5']);
    repo.git(['config', 'core.commentChar', 'auto']);
  });

  it('a ":sparkles:" subject is the message, and gets the trailer', () => {
    expect(ok(repo, editorCommit(repo, ':sparkles: add the form\n'))).toBe(':sparkles: add the form\n\nTask-Id: t-5\n');
  });

  it('a body line "@bob" is the message: the trailer goes after it', () => {
    expect(ok(repo, editorCommit(repo, 'subject\n\nthanks to\n@bob\n'))).toBe('subject\n\nthanks to\n@bob\n\nTask-Id: t-5\n');
  });

  it('when "#" starts a line of the message git starts from, git comments with ";" and a "#" title is the message', () => {
    // amend a commit whose message is "#12 fix": git picks ";" and keeps the "#" line
    repo.git(['commit', '-q', '--allow-empty', '-m', '#12 fix'], { env: testEnv({ OMNI_SHIP_SKIP: '1' }) });
    const keep = script('exit 0\n');
    const r = repo.gitRun(['commit', '-q', '--allow-empty', '--amend'], { env: testEnv({ GIT_EDITOR: keep }) });
    expect(ok(repo, r)).toBe('#12 fix\n\nTask-Id: t-5\n');
  });

  it('with -m, git picks a character no line starts with: no line is a comment, even under --cleanup=strip', () => {
    expect(ok(repo, commit(repo, ['--cleanup=strip', '-m', '#x', '-m', ';y']))).toBe('#x\n\n;y\n\nTask-Id: t-5\n');
  });
});

describe('commit-msg: the scissors line counts only where git cuts there', () => {
  let repo: TestRepo;
  beforeAll(() => {
    repo = installedRepo();
    repo.git(['switch', '-q', '-c', 't-5']);
  });
  const literal = `subject\n\nbody\n# ${SCISSORS}\nkept after the line\n`;

  it('without -v, a scissors line in the editor is a comment: git keeps what follows, and the trailer goes at the end', () => {
    expect(ok(repo, editorCommit(repo, literal))).toBe('subject\n\nbody\nkept after the line\n\nTask-Id: t-5\n');
  });

  it('commit.verbose=true with --no-verbose: no cut either', () => {
    repo.git(['config', 'commit.verbose', 'true']);
    try {
      expect(ok(repo, editorCommit(repo, literal, ['--no-verbose']))).toBe('subject\n\nbody\nkept after the line\n\nTask-Id: t-5\n');
    } finally {
      repo.git(['config', '--unset', 'commit.verbose']);
    }
  });

  it.each(['-v', '-qv', '-av', '--verbose', '--verb', '-vv'])('git commit %s with staged changes: cut at git’s scissors, the diff stays out', (flag) => {
    repo.write(`f${flag}.txt`, 'Task-Id: t-9\nReviewed-by: nobody\n');
    repo.git(['add', '.']);
    const msg = ok(repo, editorCommit(repo, 'verbose subject\n\nbody line\n', [flag]));
    expect(msg).toBe('verbose subject\n\nbody line\n\nTask-Id: t-5\n');
  });

  it('git commit -v --cleanup whitespace: git keeps its own comment lines above the cut, the trailer goes above them', () => {
    repo.write('w.txt', 'Task-Id: t-9\n');
    repo.git(['add', '.']);
    const msg = ok(repo, editorCommit(repo, 'verbose subject\n\nbody line\n', ['-v', '--cleanup', 'whitespace']));
    expect(msg.startsWith('verbose subject\n\nbody line\n\nTask-Id: t-5\n\n# ')).toBe(true);
    expect(msg).not.toContain('diff --git');
    expect(tasks(repo)).toBe('t-5');
  });

  it('when no flag can be seen (run by `git hook run`, as without /proc), a scissors line after an editor is git’s', () => {
    const diff = `# ${SCISSORS}\n# Do not modify or remove the line above.\ndiff --git a/x b/x\n+Task-Id: t-9\n`;
    const file = tempFile(`subject\n\nbody\n${diff}`, 'COMMIT_EDITMSG');
    const r = repo.gitRun(['hook', 'run', 'commit-msg', '--', file], { env: testEnv({ GIT_EDITOR: 'vi' }) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe(`subject\n\nbody\n\nTask-Id: t-5\n${diff}`);
  });

  it('commit.verbose=true, no flag: git cuts', () => {
    repo.git(['config', 'commit.verbose', 'true']);
    try {
      repo.write('g.txt', 'Task-Id: t-9\n');
      repo.git(['add', '.']);
      expect(ok(repo, editorCommit(repo, 'subject\n\nbody\n'))).toBe('subject\n\nbody\n\nTask-Id: t-5\n');
    } finally {
      repo.git(['config', '--unset', 'commit.verbose']);
    }
  });

  it('--cleanup=scissors keeps comment lines above the cut: a message of one "#" line is committed, with the trailer', () => {
    const msg = ok(repo, editorCommit(repo, '# only this line\n', ['--cleanup', 'scissors']));
    expect(msg.startsWith('# only this line\n')).toBe(true);
    expect(tasks(repo)).toBe('t-5');
  });

  it('-m with commit.verbose and a comment character other than "#": the trailer stays above git’s cut', () => {
    repo.git(['config', 'core.commentChar', ';']);
    try {
      commit(repo, ['-m', 'primes the branch cache']);
      const r = commit(repo, ['-m', 'subject', '-m', `body\n; ${SCISSORS}\nafter`], ['-c', 'commit.verbose=true']);
      expect(ok(repo, r)).toBe('subject\n\nbody\n\nTask-Id: t-5\n');
    } finally {
      repo.git(['config', '--unset', 'core.commentChar']);
    }
  });
});

describe('commit-msg: a message git finds empty still aborts the commit, in every cleanup mode', () => {
  let repo: TestRepo;
  beforeAll(() => {
    repo = installedRepo();
    repo.git(['switch', '-q', '-c', 't-5']);
    // the branch's task is remembered: the no-process fast paths are in play
    commit(repo, ['-m', 'primes the branch cache']);
  });

  it.each([
    ['--cleanup=strip', ['--cleanup=strip'], []],
    ['--cleanup strip', ['--cleanup', 'strip'], []],
    ['--cl=strip (an abbreviation)', ['--cl=strip'], []],
    ['git -c commit.cleanup=strip', [], ['-c', 'commit.cleanup=strip']],
  ])('%s and -m "#only a comment"', (_what, flags, pre) => {
    const before = head(repo);
    abortedEmpty(repo, before, commit(repo, [...flags, '-m', '#only a comment'], pre));
  });

  it('commit.cleanup=strip and core.commentChar=";" set in the config file after the branch was remembered', () => {
    repo.git(['config', 'commit.cleanup', 'strip']);
    repo.git(['config', 'core.commentChar', ';']);
    try {
      const before = head(repo);
      abortedEmpty(repo, before, commit(repo, ['-m', ';only a comment']));
      abortedEmpty(repo, before, commit(repo, ['-m', ';a comment', '-m', ';and another']));
      // "#" is not the comment character now: that is a message
      expect(ok(repo, commit(repo, ['-m', '#42 is the issue']))).toBe('#42 is the issue\n\nTask-Id: t-5\n');
    } finally {
      repo.git(['config', '--unset', 'commit.cleanup']);
      repo.git(['config', '--unset', 'core.commentChar']);
    }
  });

  it('a message of nothing but Signed-off-by lines is empty for git', () => {
    const before = head(repo);
    abortedEmpty(repo, before, commit(repo, ['-m', 'Signed-off-by: A <a@example.com>']));
    abortedEmpty(repo, before, editorCommit(repo, '\nSigned-off-by: A <a@example.com>\n\n'));
  });

  it('--cleanup=whitespace from the editor: "#" lines are the message, so one is committed with the trailer', () => {
    const msg = ok(repo, editorCommit(repo, '# a heading\n', ['--cleanup=whitespace']));
    expect(msg.startsWith('# a heading\n')).toBe(true);
    expect(tasks(repo)).toBe('t-5');
  });

  it('--cleanup=verbatim from the editor: a "#" line before the trailer block is the message, the trailer still one of git’s', () => {
    const msg = ok(repo, editorCommit(repo, 'subject\n\n# kept\nA: b\n', ['--cleanup=verbatim']));
    expect(msg.startsWith('subject\n\n# kept\nA: b\n')).toBe(true);
    expect(tasks(repo)).toBe('t-5');
  });

  it('an untouched commit.template aborts as git does ("you did not edit the message")', () => {
    const template = tempFile('Template subject\n\n# say why\n', 'template.txt');
    repo.git(['config', 'commit.template', template]);
    try {
      const before = head(repo);
      const keep = script('exit 0\n');
      const r = repo.gitRun(['commit', '-q', '--allow-empty'], { env: testEnv({ GIT_EDITOR: keep }) });
      abortedEmpty(repo, before, r, 'you did not edit the message');
      // edited, it commits with the trailer
      expect(ok(repo, editorCommit(repo, 'a real subject\n'))).toBe('a real subject\nTemplate subject\n\nTask-Id: t-5\n');
    } finally {
      repo.git(['config', '--unset', 'commit.template']);
    }
  });
});

describe('commit-msg: commits made during a rebase get the branch’s task', () => {
  const sequence = (from: string, to: string) => script(`sed 's/^${from} /${to} /' "$1" > "$1.new" && mv "$1.new" "$1"\n`);

  it('an edit stop that splits a commit into two: both get the trailer', () => {
    const repo = installedRepo();
    repo.git(['switch', '-q', '-c', 't-7']);
    repo.write('a.txt', 'a\n');
    repo.write('b.txt', 'b\n');
    repo.git(['add', '.']);
    ok(repo, commit(repo, ['-m', 'both files']));
    const r = repo.gitRun(['rebase', '-q', '-i', 'main'], { env: testEnv({ GIT_SEQUENCE_EDITOR: sequence('pick', 'edit') }) });
    expect(r.code).toBe(0);
    repo.git(['reset', '-q', 'HEAD^']);
    repo.git(['add', 'a.txt']);
    expect(ok(repo, repo.gitRun(['commit', '-q', '-m', 'part one']))).toBe('part one\n\nTask-Id: t-7\n');
    repo.git(['add', 'b.txt']);
    expect(ok(repo, editorCommit(repo, 'part two\n'))).toBe('part two\n\nTask-Id: t-7\n');
    expect(repo.gitRun(['rebase', '--continue'], { env: testEnv({ GIT_EDITOR: ':' }) }).code).toBe(0);
    expect(repo.git(['rev-parse', '--abbrev-ref', 'HEAD']).trim()).toBe('t-7');
    expect(tasks(repo, 'HEAD')).toBe('t-7');
    expect(tasks(repo, 'HEAD~1')).toBe('t-7');
  });

  it('a reword that drops the Task-Id line gets it back', () => {
    const repo = installedRepo();
    repo.git(['switch', '-q', '-c', 't-8']);
    repo.write('c.txt', 'c\n');
    repo.git(['add', '.']);
    ok(repo, commit(repo, ['-m', 'old words']));
    const reword = script(`printf 'new words\\n' > "$1"\n`);
    const r = repo.gitRun(['rebase', '-q', '-i', 'main'], { env: testEnv({ GIT_SEQUENCE_EDITOR: sequence('pick', 'reword'), GIT_EDITOR: reword }) });
    expect(r.code).toBe(0);
    expect(repo.git(['rev-parse', '--abbrev-ref', 'HEAD']).trim()).toBe('t-8');
    expect(message(repo)).toBe('new words\n\nTask-Id: t-8\n');
  });
});

describe('commit-msg: git commit --amend on a branch that names no task keeps the amended commit’s task', () => {
  let repo: TestRepo;
  beforeAll(() => {
    repo = installedRepo();
    // main names no task; the branch's answer is remembered, so the fast path is in play
    expect(ok(repo, commit(repo, ['-m', 'plain']))).toBe('plain\n');
    expect(ok(repo, commit(repo, ['-m', 'tagged'], [], { OMNI_SHIP_TASK: 't-8' }))).toBe('tagged\n\nTask-Id: t-8\n');
  });

  it.each([['--amend'], ['--amen'], ['--am']])('%s -m', (flag) => {
    const parent = repo.git(['rev-parse', 'HEAD^']).trim();
    expect(ok(repo, commit(repo, [flag, '-m', `new text ${flag}`]))).toBe(`new text ${flag}\n\nTask-Id: t-8\n`);
    expect(repo.git(['rev-parse', 'HEAD^']).trim()).toBe(parent);
  });

  it('--amend from the editor, the trailer line deleted', () => {
    const rewrite = script(`printf 'edited words\\n' > "$1"\n`);
    const r = repo.gitRun(['commit', '-q', '--allow-empty', '--amend'], { env: testEnv({ GIT_EDITOR: rewrite }) });
    expect(ok(repo, r)).toBe('edited words\n\nTask-Id: t-8\n');
  });

  it('a new commit is no amend: "-m --amend" is a message, "-- --amend" a path', () => {
    expect(ok(repo, commit(repo, ['-m', '--amend']))).toBe('--amend\n');
    ok(repo, commit(repo, ['--amend', '-m', 'tagged again'], [], { OMNI_SHIP_TASK: 't-8' }));
    repo.write('--amend', 'a file\n');
    repo.git(['add', '--', '--amend']);
    const r = repo.gitRun(['commit', '-q', '-m', 'a path', '--', '--amend'], { env: testEnv() });
    expect(ok(repo, r)).toBe('a path\n');
  });
});

describe('commit-msg: a Task-Id that is not a task id', () => {
  it.each([
    ['requireTaskId off', false, {}],
    ['requireTaskId on', true, {}],
    ['OMNI_SHIP_TASK set', false, { OMNI_SHIP_TASK: 't-3' }],
  ])('rejects the commit, names the value, keeps the message file (%s)', (_what, require, env) => {
    const repo = installedRepo(require ? (r) => r.write('.omni-shiprc.json', '{"requireTaskId": true}\n') : undefined);
    repo.git(['switch', '-q', '-c', 't-40']);
    const before = head(repo);
    const file = path.join(repo.dir, '.git', 'COMMIT_EDITMSG');
    for (const trailer of ['Task-Id: nope', 'task-id:NOPE']) {
      const r = commit(repo, ['-m', 'subject', '-m', `Signed-off-by: A <a@example.com>\n${trailer}`], [], env);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${trailer.split(':')[1]!.trim()} is not a valid task id`);
      expect(r.stderr).toContain('^t-[0-9]+(\\.[0-9]+)*$');
      expect(head(repo)).toBe(before);
      expect(fs.readFileSync(file, 'utf8')).toBe(`subject\n\nSigned-off-by: A <a@example.com>\n${trailer}\n`);
    }
    // from the editor too
    const r = editorCommit(repo, 'subject\n\nTask-Id: t-x1\n', [], [], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('t-x1 is not a valid task id');
    expect(head(repo)).toBe(before);
  });
});

describe('commit-msg: damaged machine-local caches are ignored, never fatal', () => {
  /** Byte offsets to cut a file at: inside each quoted value, at the end of the first and the last line but one. */
  function offsets(text: string): number[] {
    const at = new Set<number>([1, text.indexOf('\n') + 1, text.lastIndexOf('\n', text.length - 2) + 1, text.length - 1]);
    let open = false;
    for (let i = 0; i < text.length; i++) {
      if (text[i] !== "'") continue;
      if (!open) at.add(i + 2);
      open = !open;
    }
    return [...at].filter((n) => n > 0 && n < text.length).sort((a, b) => a - b);
  }

  it('a hook-config.sh cut short (inside a value, after a line): the commit succeeds with the trailer, and the file is rebuilt', () => {
    const repo = installedRepo((r) => r.write('.omni-shiprc.json', '{"trailerKey": "Change-Task"}\n'));
    repo.git(['switch', '-q', '-c', 't-6']);
    const cache = path.join(repo.dir, '.git', 'omni-ship', 'hook-config.sh');
    const full = fs.readFileSync(cache, 'utf8');
    let n = 0;
    for (const cut of offsets(full)) {
      fs.writeFileSync(cache, full.slice(0, cut));
      const msg = ok(repo, commit(repo, ['-m', `cut at ${cut}`]));
      expect(msg, `cut at ${cut}`).toBe(`cut at ${cut}\n\nChange-Task: t-6\n`);
      // rebuilt; only a file that lost nothing but its final newline is whole as it is
      const now = fs.readFileSync(cache, 'utf8');
      expect(now === full || (cut === full.length - 1 && now === full.slice(0, cut)), `cut at ${cut}: ${now}`).toBe(true);
      n++;
    }
    expect(n).toBeGreaterThan(6);
  }, 600_000);

  it('a hook-config.sh cut short while the config cannot be read: the install-time settings apply', () => {
    const repo = installedRepo();
    repo.git(['switch', '-q', '-c', 't-6']);
    const cache = path.join(repo.dir, '.git', 'omni-ship', 'hook-config.sh');
    const full = fs.readFileSync(cache, 'utf8');
    repo.write('.omni-shiprc.json', '{"requireTaskId": "not a boolean"}\n');
    for (const cut of offsets(full)) {
      fs.writeFileSync(cache, full.slice(0, cut));
      const r = commit(repo, ['-m', `cut at ${cut}`]);
      expect(r.code, r.stderr).toBe(0);
      expect(message(repo), `cut at ${cut}`).toBe(`cut at ${cut}\n\nTask-Id: t-6\n`);
    }
  }, 600_000);

  it('a branch-task.sh cut short (inside a value, after a line): the commit succeeds with the trailer', () => {
    const repo = installedRepo();
    repo.git(['switch', '-q', '-c', 't-6']);
    ok(repo, commit(repo, ['-m', 'primes the branch cache']));
    const cache = path.join(repo.dir, '.git', 'omni-ship', 'branch-task.sh');
    const full = fs.readFileSync(cache, 'utf8');
    for (const cut of offsets(full)) {
      fs.writeFileSync(cache, full.slice(0, cut));
      expect(ok(repo, commit(repo, ['-m', `cut at ${cut}`])), `cut at ${cut}`).toBe(`cut at ${cut}\n\nTask-Id: t-6\n`);
      expect(ok(repo, commit(repo, ['-m', `again ${cut}`, '-m', 'a body']))).toBe(`again ${cut}\n\na body\n\nTask-Id: t-6\n`);
    }
  }, 600_000);
});
