import { GitError, childProcess, gitAsyncBuffer, gitRunBuffer, trace } from './exec.js';

/** One answer of `git cat-file --batch`: the object's content, or null when it is missing. */
export interface BatchObject {
  request: string;
  oid: string | null;
  type: string | null;
  content: Buffer | null;
}

/**
 * Reads many objects with one `git cat-file --batch` process, whatever their number. Requests are object names
 * (`<oid>`, `<rev>:<path>`); answers come back in the same order.
 */
export async function catFileBatch(cwd: string, requests: readonly string[]): Promise<BatchObject[]> {
  if (requests.length === 0) return [];
  const session = shared?.cwd === cwd ? shared : null;
  if (session) {
    // one question at a time: each round's answers are read before the next is asked
    const answer = session.queue.then(() => session.session.ask(requests));
    session.queue = answer.catch(() => {});
    try {
      return await answer;
    } catch {
      if (shared === session) shared = null; // the session died: every later read spawns its own again
    }
  }
  return parseBatch(requests, await gitAsyncBuffer(['cat-file', '--batch'], { cwd, input: batchInput(requests) }));
}

/** The session catFileBatch asks while one is shared (shareCatFile), and its queue of rounds. */
let shared: { cwd: string; session: CatFileSession; queue: Promise<unknown> } | null = null;

/**
 * Starts one `git cat-file --batch` process in `cwd` that every catFileBatch there uses until `close()`: a command
 * that reads a few objects at many moments (land reads config, notes and commits between its other steps) pays
 * for one process instead of one each time. It sees objects and refs as they are when each round is asked (git
 * reads loose refs at each lookup and looks for new packs when an object is missing).
 */
export function shareCatFile(cwd: string): { close(): void } {
  const mine = { cwd, session: new CatFileSession(cwd), queue: Promise.resolve() as Promise<unknown> };
  shared = mine;
  return {
    close() {
      if (shared === mine) shared = null;
      mine.session.close();
    },
  };
}

/** catFileBatch, waiting for git: for code that must not yield (a candidate build reads two commits). */
export function catFileBatchSync(cwd: string, requests: readonly string[]): BatchObject[] {
  if (requests.length === 0) return [];
  const args = ['cat-file', '--batch'];
  const r = gitRunBuffer(args, { cwd, input: batchInput(requests) });
  if (r.exitCode !== 0) throw new GitError(args, r.exitCode, r.stderr);
  return parseBatch(requests, r.stdout);
}

function batchInput(requests: readonly string[]): string {
  for (const r of requests) if (r.includes('\n')) throw new Error(`cat-file: a request holds a newline: ${JSON.stringify(r)}`);
  return `${requests.join('\n')}\n`;
}

/** The answers of `git cat-file --batch` to `requests`, in order, from its whole output. */
function parseBatch(requests: readonly string[], out: Buffer): BatchObject[] {
  const answers: BatchObject[] = [];
  let pos = 0;
  for (const request of requests) {
    const nl = out.indexOf(10, pos);
    if (nl < 0) throw new Error(`git cat-file --batch ended early at ${JSON.stringify(request)}`);
    const header = out.toString('utf8', pos, nl);
    pos = nl + 1;
    if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
      answers.push({ request, oid: null, type: null, content: null });
      continue;
    }
    const [oid, type, size] = header.split(' ');
    const n = Number(size);
    answers.push({ request, oid: oid ?? null, type: type ?? null, content: out.subarray(pos, pos + n) });
    pos += n + 1; // content, then a newline
  }
  return answers;
}

/** One entry of a tree listing. */
export interface TreeEntry {
  mode: string;
  type: string;
  oid: string;
  path: string;
}

/** Lists a tree recursively (`git ls-tree -r -z`). */
export async function lsTree(cwd: string, treeish: string): Promise<TreeEntry[]> {
  const out = (await gitAsyncBuffer(['ls-tree', '-r', '-z', treeish], { cwd })).toString('utf8');
  const entries: TreeEntry[] = [];
  for (const record of out.split('\0')) {
    if (!record) continue;
    const tab = record.indexOf('\t');
    const [mode, type, oid] = record.slice(0, tab).split(' ');
    entries.push({ mode: mode!, type: type!, oid: oid!, path: record.slice(tab + 1) });
  }
  return entries;
}

/**
 * Parses `git cat-file --batch` output fed in chunks of any size, calling `onObject` for each object as soon as its
 * last byte arrives; missing and ambiguous names are skipped. Linear in the bytes: a content that spans chunks is
 * copied once into a buffer of the size its header announced (joining the pending bytes with every new chunk made
 * one 28 MB note cost seconds: each 64 KiB chunk copied everything before it). A content inside one chunk is not
 * copied at all.
 */
export class BatchParser {
  /** bytes of a header whose newline has not arrived yet */
  private header: Buffer[] = [];
  /** the object whose content is arriving, or null while a header is read */
  private object: { oid: string; content: Buffer; got: number } | null = null;
  /** the newline after a content is still to come */
  private newline = false;

  constructor(private readonly onObject: (oid: string, content: Buffer) => void) {}

  /** Feeds the next chunk of git's output. */
  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.newline) {
        if (chunk[pos] !== 10) throw new Error('git cat-file --batch: no newline after an object');
        this.newline = false;
        pos++;
        continue;
      }
      const o = this.object;
      if (o) {
        const copied = chunk.copy(o.content, o.got, pos, Math.min(chunk.length, pos + o.content.length - o.got));
        o.got += copied;
        pos += copied;
        if (o.got === o.content.length) this.emit(o.oid, o.content);
        continue;
      }
      const nl = chunk.indexOf(10, pos);
      if (nl < 0) {
        this.header.push(chunk.subarray(pos));
        return;
      }
      const line = this.header.length ? Buffer.concat([...this.header, chunk.subarray(pos, nl)]).toString('latin1') : chunk.toString('latin1', pos, nl);
      this.header = [];
      pos = nl + 1;
      if (line.endsWith(' missing') || line.endsWith(' ambiguous')) continue;
      const sp1 = line.indexOf(' ');
      const sp2 = line.indexOf(' ', sp1 + 1);
      const size = Number(line.slice(sp2 + 1));
      if (sp1 < 0 || sp2 < 0 || !Number.isSafeInteger(size) || size < 0) throw new Error(`git cat-file --batch: unexpected header ${JSON.stringify(line)}`);
      const oid = line.slice(0, sp1);
      if (pos + size <= chunk.length) {
        // the whole content is here (the common case: notes are small): hand out a view, no copy
        this.emit(oid, chunk.subarray(pos, pos + size));
        pos += size;
      } else this.object = { oid, content: Buffer.allocUnsafe(size), got: 0 };
    }
  }

  /** Checks that the output ended between two objects. */
  end(): void {
    if (this.object || this.newline || this.header.length) throw new Error('git cat-file --batch: the output ended inside an object');
  }

  private emit(oid: string, content: Buffer): void {
    this.object = null;
    this.newline = true;
    this.onObject(oid, content);
  }
}

/**
 * Streams `git cat-file --batch` for `oids`, calling `onObject` for each object as its bytes arrive, so the caller
 * works while git is still reading. Missing objects are skipped.
 */
export function catFileStream(cwd: string, oids: readonly string[], onObject: (oid: string, content: Buffer) => void): Promise<void> {
  if (oids.length === 0) return Promise.resolve();
  return startCatFileStream(cwd, onObject).read(oids);
}

/**
 * catFileStream started before its objects are known: git starts now (beside another git whose answer names them)
 * and reads what `read` is given, once; `read([])` just ends it.
 */
export function startCatFileStream(cwd: string, onObject: (oid: string, content: Buffer) => void): { read(oids: readonly string[]): Promise<void> } {
  let feed: (oids: readonly string[]) => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    const done = trace(['cat-file', '--batch']);
    const child = childProcess().spawn('git', ['cat-file', '--batch'], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    child.on('close', () => done?.());
    const parser = new BatchParser(onObject);
    let failed: Error | null = null;
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.on('data', (chunk: Buffer) => {
      if (failed) return;
      try {
        parser.push(chunk);
      } catch (e) {
        failed = e as Error; // a bad stream or a throwing caller: stop feeding, report when git is done
      }
    });
    child.on('error', (e) => reject(e));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`git cat-file --batch failed (exit ${code}): ${stderr.trim()}`));
      if (!failed) {
        try {
          parser.end();
        } catch (e) {
          failed = e as Error;
        }
      }
      if (failed) reject(failed);
      else resolve();
    });
    child.stdin.on('error', () => {});
    feed = (oids) => child.stdin.end(oids.length ? `${oids.join('\n')}\n` : '');
  });
  return {
    read(oids) {
      feed(oids);
      return finished;
    },
  };
}

/**
 * One `git cat-file --batch` process asked several rounds of questions, each round's answers read before the next
 * is asked (the second round may depend on the first): what a handful of processes would read, for the cost of
 * one. Answers come in request order; a missing or ambiguous name answers with nulls. `close()` ends git.
 */
export class CatFileSession {
  private readonly child;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: (() => void) | null = null;
  private ended = false;
  private stderr = '';

  constructor(cwd: string) {
    const traced = trace(['cat-file', '--batch', '(session)']);
    this.child = childProcess().spawn('git', ['cat-file', '--batch'], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.on('close', () => traced?.());
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
      this.waiting?.();
    });
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    const done = () => {
      this.ended = true;
      this.waiting?.();
    };
    this.child.on('close', done);
    this.child.on('error', done);
    this.child.stdin.on('error', () => {});
  }

  /** Asks one round of object names (`<oid>`, `<rev>:<path>`, `<rev>^{commit}`) and returns the answers in order. */
  async ask(requests: readonly string[]): Promise<BatchObject[]> {
    if (requests.length === 0) return [];
    for (const r of requests) if (r.includes('\n')) throw new Error(`cat-file: a request holds a newline: ${JSON.stringify(r)}`);
    this.child.stdin.write(`${requests.join('\n')}\n`);
    const answers: BatchObject[] = [];
    let pos = 0;
    for (const request of requests) {
      let nl: number;
      while ((nl = this.buffered.indexOf(10, pos)) < 0) await this.more();
      const header = this.buffered.toString('utf8', pos, nl);
      if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
        answers.push({ request, oid: null, type: null, content: null });
        pos = nl + 1;
        continue;
      }
      const [oid, type, size] = header.split(' ');
      const n = Number(size);
      if (!oid || !type || !Number.isSafeInteger(n)) throw new Error(`git cat-file --batch: unexpected header ${JSON.stringify(header)}`);
      while (this.buffered.length < nl + 1 + n + 1) await this.more();
      answers.push({ request, oid, type, content: Buffer.from(this.buffered.subarray(nl + 1, nl + 1 + n)) });
      pos = nl + 1 + n + 1;
    }
    this.buffered = this.buffered.subarray(pos);
    return answers;
  }

  /** Ends the git process. */
  close(): void {
    this.child.stdin.end();
  }

  private more(): Promise<void> {
    if (this.ended) return Promise.reject(new Error(`git cat-file --batch ended early${this.stderr ? `: ${this.stderr.trim()}` : ''}`));
    return new Promise((resolve) => {
      this.waiting = () => {
        this.waiting = null;
        resolve();
      };
    });
  }
}
