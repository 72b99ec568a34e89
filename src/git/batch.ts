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
