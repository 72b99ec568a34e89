import { spawn } from 'node:child_process';
import { gitAsyncBuffer } from './exec.js';

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
  const out = await gitAsyncBuffer(['cat-file', '--batch'], { cwd, input: `${requests.join('\n')}\n` });
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
 * Streams `git cat-file --batch` for `oids`, calling `onObject` for each object as its bytes arrive, so the caller
 * works while git is still reading. Missing objects are skipped.
 */
export function catFileStream(cwd: string, oids: readonly string[], onObject: (oid: string, content: Buffer) => void): Promise<void> {
  if (oids.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (process.env.OMNI_SHIP_TRACE_GIT) process.stderr.write('[git] cat-file --batch\n');
    const child = spawn('git', ['cat-file', '--batch'], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let pending: Buffer = Buffer.alloc(0);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let pos = 0;
      for (;;) {
        const nl = pending.indexOf(10, pos);
        if (nl < 0) break;
        const header = pending.toString('latin1', pos, nl);
        if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
          pos = nl + 1;
          continue;
        }
        const sp1 = header.indexOf(' ');
        const sp2 = header.indexOf(' ', sp1 + 1);
        const size = Number(header.slice(sp2 + 1));
        if (nl + 1 + size + 1 > pending.length) break; // the content has not all arrived yet
        onObject(header.slice(0, sp1), pending.subarray(nl + 1, nl + 1 + size));
        pos = nl + 1 + size + 1;
      }
      pending = pos >= pending.length ? Buffer.alloc(0) : pending.subarray(pos);
    });
    child.on('error', (e) => reject(e));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`git cat-file --batch failed (exit ${code}): ${stderr.trim()}`))));
    child.stdin.on('error', () => {});
    child.stdin.end(`${oids.join('\n')}\n`);
  });
}
