import {
  gitAsyncBuffer
} from "./chunk-T3IP3O65.js";

// dist/git/batch.js
import { spawn, spawnSync } from "node:child_process";
async function catFileBatch(cwd, requests) {
  if (requests.length === 0)
    return [];
  const out = await gitAsyncBuffer(["cat-file", "--batch"], { cwd, input: `${requests.join("\n")}
` });
  const answers = [];
  let pos = 0;
  for (const request of requests) {
    const nl = out.indexOf(10, pos);
    if (nl < 0)
      throw new Error(`git cat-file --batch ended early at ${JSON.stringify(request)}`);
    const header = out.toString("utf8", pos, nl);
    pos = nl + 1;
    if (header.endsWith(" missing") || header.endsWith(" ambiguous")) {
      answers.push({ request, oid: null, type: null, content: null });
      continue;
    }
    const [oid, type, size] = header.split(" ");
    const n = Number(size);
    answers.push({ request, oid: oid ?? null, type: type ?? null, content: out.subarray(pos, pos + n) });
    pos += n + 1;
  }
  return answers;
}
async function lsTree(cwd, treeish) {
  const out = (await gitAsyncBuffer(["ls-tree", "-r", "-z", treeish], { cwd })).toString("utf8");
  const entries = [];
  for (const record of out.split("\0")) {
    if (!record)
      continue;
    const tab = record.indexOf("	");
    const [mode, type, oid] = record.slice(0, tab).split(" ");
    entries.push({ mode, type, oid, path: record.slice(tab + 1) });
  }
  return entries;
}
var BatchParser = class {
  onObject;
  /** bytes of a header whose newline has not arrived yet */
  header = [];
  /** the object whose content is arriving, or null while a header is read */
  object = null;
  /** the newline after a content is still to come */
  newline = false;
  constructor(onObject) {
    this.onObject = onObject;
  }
  /** Feeds the next chunk of git's output. */
  push(chunk) {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.newline) {
        if (chunk[pos] !== 10)
          throw new Error("git cat-file --batch: no newline after an object");
        this.newline = false;
        pos++;
        continue;
      }
      const o = this.object;
      if (o) {
        const copied = chunk.copy(o.content, o.got, pos, Math.min(chunk.length, pos + o.content.length - o.got));
        o.got += copied;
        pos += copied;
        if (o.got === o.content.length)
          this.emit(o.oid, o.content);
        continue;
      }
      const nl = chunk.indexOf(10, pos);
      if (nl < 0) {
        this.header.push(chunk.subarray(pos));
        return;
      }
      const line = this.header.length ? Buffer.concat([...this.header, chunk.subarray(pos, nl)]).toString("latin1") : chunk.toString("latin1", pos, nl);
      this.header = [];
      pos = nl + 1;
      if (line.endsWith(" missing") || line.endsWith(" ambiguous"))
        continue;
      const sp1 = line.indexOf(" ");
      const sp2 = line.indexOf(" ", sp1 + 1);
      const size = Number(line.slice(sp2 + 1));
      if (sp1 < 0 || sp2 < 0 || !Number.isSafeInteger(size) || size < 0)
        throw new Error(`git cat-file --batch: unexpected header ${JSON.stringify(line)}`);
      const oid = line.slice(0, sp1);
      if (pos + size <= chunk.length) {
        this.emit(oid, chunk.subarray(pos, pos + size));
        pos += size;
      } else
        this.object = { oid, content: Buffer.allocUnsafe(size), got: 0 };
    }
  }
  /** Checks that the output ended between two objects. */
  end() {
    if (this.object || this.newline || this.header.length)
      throw new Error("git cat-file --batch: the output ended inside an object");
  }
  emit(oid, content) {
    this.object = null;
    this.newline = true;
    this.onObject(oid, content);
  }
};
function catFileStream(cwd, oids, onObject) {
  if (oids.length === 0)
    return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (process.env.OMNI_SHIP_TRACE_GIT)
      process.stderr.write("[git] cat-file --batch\n");
    const child = spawn("git", ["cat-file", "--batch"], { cwd, stdio: ["pipe", "pipe", "pipe"] });
    const parser = new BatchParser(onObject);
    let failed = null;
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d) => stderr += d);
    child.stdout.on("data", (chunk) => {
      if (failed)
        return;
      try {
        parser.push(chunk);
      } catch (e) {
        failed = e;
      }
    });
    child.on("error", (e) => reject(e));
    child.on("close", (code) => {
      if (code !== 0)
        return reject(new Error(`git cat-file --batch failed (exit ${code}): ${stderr.trim()}`));
      if (!failed) {
        try {
          parser.end();
        } catch (e) {
          failed = e;
        }
      }
      if (failed)
        reject(failed);
      else
        resolve();
    });
    child.stdin.on("error", () => {
    });
    child.stdin.end(`${oids.join("\n")}
`);
  });
}
var CatFileSession = class {
  child;
  buffered = Buffer.alloc(0);
  waiting = null;
  ended = false;
  stderr = "";
  constructor(cwd) {
    if (process.env.OMNI_SHIP_TRACE_GIT)
      process.stderr.write("[git] cat-file --batch (session)\n");
    this.child = spawn("git", ["cat-file", "--batch"], { cwd, stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout.on("data", (chunk) => {
      this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
      this.waiting?.();
    });
    this.child.stderr.setEncoding("utf8").on("data", (d) => this.stderr += d);
    const done = () => {
      this.ended = true;
      this.waiting?.();
    };
    this.child.on("close", done);
    this.child.on("error", done);
    this.child.stdin.on("error", () => {
    });
  }
  /** Asks one round of object names (`<oid>`, `<rev>:<path>`, `<rev>^{commit}`) and returns the answers in order. */
  async ask(requests) {
    if (requests.length === 0)
      return [];
    for (const r of requests)
      if (r.includes("\n"))
        throw new Error(`cat-file: a request holds a newline: ${JSON.stringify(r)}`);
    this.child.stdin.write(`${requests.join("\n")}
`);
    const answers = [];
    let pos = 0;
    for (const request of requests) {
      let nl;
      while ((nl = this.buffered.indexOf(10, pos)) < 0)
        await this.more();
      const header = this.buffered.toString("utf8", pos, nl);
      if (header.endsWith(" missing") || header.endsWith(" ambiguous")) {
        answers.push({ request, oid: null, type: null, content: null });
        pos = nl + 1;
        continue;
      }
      const [oid, type, size] = header.split(" ");
      const n = Number(size);
      if (!oid || !type || !Number.isSafeInteger(n))
        throw new Error(`git cat-file --batch: unexpected header ${JSON.stringify(header)}`);
      while (this.buffered.length < nl + 1 + n + 1)
        await this.more();
      answers.push({ request, oid, type, content: Buffer.from(this.buffered.subarray(nl + 1, nl + 1 + n)) });
      pos = nl + 1 + n + 1;
    }
    this.buffered = this.buffered.subarray(pos);
    return answers;
  }
  /** Ends the git process. */
  close() {
    this.child.stdin.end();
  }
  more() {
    if (this.ended)
      return Promise.reject(new Error(`git cat-file --batch ended early${this.stderr ? `: ${this.stderr.trim()}` : ""}`));
    return new Promise((resolve) => {
      this.waiting = () => {
        this.waiting = null;
        resolve();
      };
    });
  }
};

export {
  catFileBatch,
  lsTree,
  catFileStream,
  CatFileSession
};
