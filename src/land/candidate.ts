import { catFileBatchSync } from '../git/batch.js';
import { GitError, git, gitRun, gitRunBuffer, type GitOptions } from '../git/exec.js';

/** What the candidate builder needs: where, onto what, which task commit, and how its message changes. */
export interface CandidateInput {
  /** a work tree or the common git dir; no working tree, index, HEAD or ref is ever touched */
  cwd: string;
  /** the base tip commit the candidate is built on */
  base: string;
  /** the task commit C (one commit on top of some older base) */
  commit: string;
  /** its task id */
  task: string;
  /** e.g. 'Task-Id' */
  trailerKey: string;
  /** C carries no trailer (a cherry-pick or revert made it): add `<trailerKey>: <task>` in the landed commit */
  addTrailer: boolean;
  /** land.recordOrigin: append "(cherry picked from commit <C>)" as `git cherry-pick -x` does */
  recordOrigin: boolean;
  /** C's parent is known to be in `base`'s history (the shape check listed C alone on top of an ancestor of it): no process asks */
  parentInBase?: boolean;
}

/** The commit that would become the base tip, or why there is none. */
export type Candidate =
  /** reused: the candidate is C itself (its parent is the base tip and its message needs no change) */
  | { kind: 'ready'; commit: string; tree: string; reused: boolean }
  | { kind: 'conflict'; paths: string[]; message: string }
  /** the change is already in the base: the candidate's tree equals the base's tree */
  | { kind: 'empty'; message: string };

/** The parts of a commit object the landed commit copies, read from its raw bytes. */
interface CommitObject {
  tree: string;
  parents: string[];
  /** the author header's value as stored: `Name <email> <seconds> <tz>` */
  author: string;
  /** the `encoding` header, when the message is not UTF-8 */
  encoding: string | null;
  /** exactly the bytes after the blank line that ends the headers */
  message: Buffer;
}

/** Fixed identity and date for the scratch merge-base commits, so they need no configured identity and repeat. */
const SCRATCH_ENV = {
  GIT_AUTHOR_NAME: 'omni-ship',
  GIT_AUTHOR_EMAIL: 'omni-ship@invalid',
  GIT_AUTHOR_DATE: '1000000000 +0000',
  GIT_COMMITTER_NAME: 'omni-ship',
  GIT_COMMITTER_EMAIL: 'omni-ship@invalid',
  GIT_COMMITTER_DATE: '1000000000 +0000',
};

/** A trailer key no message uses: inserted to learn where git puts a trailer in a message, then taken out. */
const PROBE_KEY = 'Omni-Ship-Trailer-Probe-5c1e';

/**
 * Builds the commit that landing `commit` on `base` would make the base tip, with no working tree: the tree of
 * `git cherry-pick <commit>` onto `base`, C's message (plus the trailer or origin line asked for) and author.
 * Writes objects only; nothing references them until the caller moves a ref, so gc removes unused ones.
 */
export function buildCandidate(input: CandidateInput): Candidate {
  const { cwd } = input;
  // both commits in one cat-file: the base's tree, and C whole
  const [baseObject, cObject] = catFileBatchSync(cwd, [`${input.base}^{commit}`, `${input.commit}^{commit}`]);
  for (const [o, name] of [[baseObject, input.base], [cObject, input.commit]] as const) {
    if (!o?.content || o.type !== 'commit') throw new GitError(['cat-file', '--batch'], 128, `fatal: ${JSON.stringify(name)} is not a commit here`);
  }
  const base = baseObject!.oid!;
  const baseTree = parseCommit(base, baseObject!.content!).tree;
  const commit = cObject!.oid!;
  const c = parseCommit(commit, cObject!.content!);
  if (c.parents.length > 1) throw new Error(`${input.task}: ${short(commit)} is a merge commit; a task lands one ordinary commit`);
  const parent = c.parents[0] ?? null;

  let merged: { tree: string; conflicts: string[] };
  if (parent === base) merged = { tree: c.tree, conflicts: [] };
  else if (parent !== null && (input.parentInBase || isAncestor(cwd, parent, base))) {
    // the merge base of base and C is then C's parent, so this is the cherry-pick (git 2.39 has no --merge-base)
    merged = mergeTree(cwd, base, commit);
  } else {
    // base was rewritten or C sits on another line (or is a root commit): give merge-tree the merge base
    // a cherry-pick uses, C's parent's tree (the empty tree for a root), as the only common ancestor
    const parentTree = parent === null ? emptyTree(cwd) : readCommit(cwd, parent).tree;
    const b = scratchCommit(cwd, parentTree, []);
    merged = mergeTree(cwd, scratchCommit(cwd, baseTree, [b]), scratchCommit(cwd, c.tree, [b]));
  }

  if (merged.conflicts.length > 0) {
    const paths = merged.conflicts;
    return {
      kind: 'conflict',
      paths,
      message: `${input.task}: ${short(commit)} conflicts with ${short(base)} in ${paths.map(showPath).join(', ')}; rebase the task on the base, resolve, and amend`,
    };
  }
  // before reuse: an empty task commit on the base tip changes nothing either (cherry-pick refuses it too)
  if (merged.tree === baseTree) {
    return { kind: 'empty', message: `${input.task}: nothing to land: the change of ${short(commit)} is already in ${short(base)}` };
  }
  if (parent === base && !input.addTrailer && !input.recordOrigin) return { kind: 'ready', commit, tree: c.tree, reused: true };

  let message = c.message;
  if (input.addTrailer) message = withTrailer(cwd, message, `${input.trailerKey}: ${input.task}`, input.trailerKey);
  if (input.recordOrigin) message = withOrigin(cwd, message, commit);
  const landed = commitTree(cwd, merged.tree, base, c, message);
  return { kind: 'ready', commit: landed, tree: merged.tree, reused: false };
}

/** Reads a commit object's tree, parents, author, encoding and message bytes. */
function readCommit(cwd: string, sha: string): CommitObject {
  const args = ['cat-file', 'commit', sha];
  const r = gitRunBuffer(args, { cwd });
  if (r.exitCode !== 0) throw new GitError(args, r.exitCode, r.stderr);
  return parseCommit(sha, r.stdout);
}

/** A commit object's parts, from its raw bytes. */
function parseCommit(sha: string, raw: Buffer): CommitObject {
  const end = raw.indexOf('\n\n');
  const headers = raw.subarray(0, end === -1 ? raw.length : end).toString('utf8').split('\n');
  const message = end === -1 ? Buffer.alloc(0) : raw.subarray(end + 2);
  let tree = '';
  let author = '';
  let encoding: string | null = null;
  const parents: string[] = [];
  // continuation lines (a gpgsig's) start with a space and never match a header name below
  for (const line of headers) {
    if (line.startsWith('tree ')) tree = line.slice(5);
    else if (line.startsWith('parent ')) parents.push(line.slice(7));
    else if (line.startsWith('author ')) author = line.slice(7);
    else if (line.startsWith('encoding ')) encoding = line.slice(9);
  }
  if (!tree || !author) throw new Error(`commit ${sha} has no ${tree ? 'author' : 'tree'} header`);
  return { tree, parents, author, encoding, message };
}

/** Whether `ancestor` is reachable from `descendant` (git merge-base --is-ancestor: 0 yes, 1 no). */
function isAncestor(cwd: string, ancestor: string, descendant: string): boolean {
  const args = ['merge-base', '--is-ancestor', ancestor, descendant];
  const r = gitRun(args, { cwd });
  if (r.exitCode === 0) return true;
  if (r.exitCode === 1 && r.stderr.trim() === '') return false;
  throw new GitError(args, r.exitCode, r.stderr, r.stdout);
}

/** The empty tree's id in this repository's hash (written, so every command can read it). */
function emptyTree(cwd: string): string {
  return git(['hash-object', '-w', '-t', 'tree', '--stdin'], { cwd, input: '' }).trim();
}

/** A commit object for merge-tree's merge base bookkeeping; never signed, never referenced. */
function scratchCommit(cwd: string, tree: string, parents: readonly string[]): string {
  const args = ['commit-tree', '--no-gpg-sign', ...parents.flatMap((p) => ['-p', p]), '-m', 'omni-ship: land candidate scratch', tree];
  return git(args, { cwd, env: SCRATCH_ENV }).trim();
}

/**
 * `git merge-tree --write-tree -z --name-only --no-messages <ours> <theirs>` on git 2.39 prints `<tree>\0` when
 * clean (exit 0), and `<tree>\0<path>\0...` (each conflicted path once) when conflicted (exit 1). A bad argument
 * also exits 1 but prints nothing on stdout, so exit 1 is a conflict only when a tree id came first.
 */
function mergeTree(cwd: string, ours: string, theirs: string): { tree: string; conflicts: string[] } {
  const args = ['merge-tree', '--write-tree', '-z', '--name-only', '--no-messages', ours, theirs];
  const r = gitRun(args, { cwd });
  const fields = r.stdout.split('\0');
  const tree = fields[0] ?? '';
  if ((r.exitCode !== 0 && r.exitCode !== 1) || !/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(tree)) {
    throw new GitError(args, r.exitCode, r.stderr, r.stdout);
  }
  const conflicts: string[] = [];
  for (const p of fields.slice(1)) {
    if (p === '') break;
    if (!conflicts.includes(p)) conflicts.push(p);
  }
  if (r.exitCode === 1 && conflicts.length === 0) throw new GitError(args, r.exitCode, r.stderr, r.stdout);
  return { tree, conflicts };
}

/** strbuf_complete_line: a message that does not end in a newline gets one (git < 2.46.2 glues a trailer to it). */
function completeLine(message: Buffer): Buffer {
  return message.length > 0 && message[message.length - 1] !== 0x0a ? Buffer.concat([message, Buffer.from('\n')]) : message;
}

/**
 * Where git puts a trailer at the end of the message's trailer block, learnt from git itself (its block detection
 * has many rules) by adding a probe trailer with interpret-trailers and finding it again. interpret-trailers
 * rewrites the existing trailers it prints ("Key:value" becomes "Key: value"), so only positions are taken from
 * its output: `end` is the offset in `message` where the block ends (trailing blank and comment lines stay after
 * it), `inBlock` whether a block exists, `prefix` the output before the probe (the message up to `end` plus the
 * blank line git adds before a new block) when none does.
 */
function trailerSpot(cwd: string, message: Buffer): { end: number; inBlock: boolean; prefix: Buffer } {
  const args = ['interpret-trailers', '--no-divider', '--where', 'end', '--if-exists', 'add', '--if-missing', 'add', '--trailer', `${PROBE_KEY}: x`];
  const r = gitRunBuffer(args, { cwd, input: message });
  if (r.exitCode !== 0) throw new GitError(args, r.exitCode, r.stderr);
  const out = r.stdout;
  const at = out.lastIndexOf(PROBE_KEY);
  const eol = at === -1 ? -1 : out.indexOf('\n', at);
  const tail = eol === -1 ? null : out.subarray(eol + 1);
  if (tail === null || (at > 0 && out[at - 1] !== 0x0a) || tail.length > message.length || !message.subarray(message.length - tail.length).equals(tail)) {
    throw new Error(`git interpret-trailers put the trailer where omni-ship cannot find it: ${JSON.stringify(out.toString('utf8'))}`);
  }
  const prefix = out.subarray(0, at);
  const blankBefore = prefix.length === 0 || prefix.equals(Buffer.from('\n')) || prefix.subarray(-2).equals(Buffer.from('\n\n'));
  return { end: message.length - tail.length, inBlock: !blankBefore, prefix };
}

/** Whether the message's trailer block has a trailer with this key (any value, any case), as git parses it. */
function hasTrailer(cwd: string, message: Buffer, key: string): boolean {
  const args = ['interpret-trailers', '--parse', '--no-divider'];
  const r = gitRunBuffer(args, { cwd, input: message });
  if (r.exitCode !== 0) throw new GitError(args, r.exitCode, r.stderr);
  const k = key.toLowerCase();
  return r.stdout
    .toString('utf8')
    .split('\n')
    .some((line) => line.slice(0, k.length).toLowerCase() === k && /^[^A-Za-z0-9-]/.test(line.slice(k.length)));
}

/**
 * The message with `trailer` at the end of its trailer block, as `git interpret-trailers --if-exists doNothing`
 * would place it, every other byte kept (interpret-trailers itself would reformat the existing trailers).
 */
function withTrailer(cwd: string, message: Buffer, trailer: string, key: string): Buffer {
  const m = completeLine(message);
  if (hasTrailer(cwd, m, key)) return message;
  const spot = trailerSpot(cwd, m);
  const line = Buffer.from(`${trailer}\n`);
  return spot.inBlock
    ? Buffer.concat([m.subarray(0, spot.end), line, m.subarray(spot.end)])
    : Buffer.concat([spot.prefix, line, m.subarray(spot.end)]);
}

/**
 * The message with `(cherry picked from commit <C>)` appended as sequencer.c does for `cherry-pick -x`: complete
 * the last line, add a blank line unless the message ends in a trailer block (has_conforming_footer), then the line.
 */
function withOrigin(cwd: string, message: Buffer, commit: string): Buffer {
  const m = completeLine(message);
  const conforming = trailerSpot(cwd, m).inBlock;
  return Buffer.concat([m, Buffer.from(`${conforming ? '' : '\n'}(cherry picked from commit ${commit})\n`)]);
}

/**
 * Writes the landed commit: the tree on `base`, C's author (name, email and date as stored), the current identity
 * as committer (git's default, as cherry-pick), the message bytes on stdin, and C's encoding. i18n.commitEncoding
 * is set for this call either way, so an integrator's own setting cannot stamp a UTF-8 message as something else.
 */
function commitTree(cwd: string, tree: string, base: string, c: CommitObject, message: Buffer): string {
  const ident = splitIdent(c.author);
  const opts: GitOptions = {
    cwd,
    input: message,
    env: { GIT_AUTHOR_NAME: ident.name, GIT_AUTHOR_EMAIL: ident.email, GIT_AUTHOR_DATE: ident.date },
  };
  return git(['-c', `i18n.commitEncoding=${c.encoding ?? 'UTF-8'}`, 'commit-tree', '-p', base, tree], opts).trim();
}

/** Splits an ident header value as git's split_ident_line does: name before the first `<`, email up to `>`, then the date. */
function splitIdent(value: string): { name: string; email: string; date: string } {
  const lt = value.indexOf('<');
  const gt = lt === -1 ? -1 : value.indexOf('>', lt);
  if (gt === -1) throw new Error(`cannot read the author of a commit: ${JSON.stringify(value)}`);
  return { name: value.slice(0, lt).trim(), email: value.slice(lt + 1, gt), date: value.slice(gt + 1).trim() };
}

/** A commit id as messages show it. */
function short(sha: string): string {
  return sha.slice(0, 12);
}

/** A path as a message shows it: as is, or JSON-quoted when it holds a quote, a comma or a control character. */
function showPath(p: string): string {
  return /[\u0000-\u001f",]/.test(p) ? JSON.stringify(p) : p;
}
