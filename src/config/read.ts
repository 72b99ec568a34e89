import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { badInput } from '../errors.js';
import { CONFIG_FILES, checkConfigFilesReadable, executesCode } from './files.js';
import { parseDataConfig, parseJsonConfig } from './parse.js';

/** The config file found in a directory: data already parsed, or a program not yet run (with its exact bytes). */
export type FoundConfig = { file: string; kind: 'data'; data: unknown } | { file: string; kind: 'code'; bytes: Buffer };

/**
 * Finds the config file in `dir` (the top of the work tree) and parses it if it is data. A JavaScript config is
 * returned unrun: whether it may run is the caller's decision. As cosmiconfig does: an empty file is a config with
 * no settings, a package.json counts only when it has an "omni-ship" key. Unlike cosmiconfig, `$import` is not
 * followed (a YAML file could otherwise pull in a program): it is an unknown key like any other.
 */
export async function findConfig(dir: string): Promise<FoundConfig | null> {
  checkConfigFilesReadable(dir);
  for (const name of CONFIG_FILES) {
    const file = path.join(dir, name);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw badInput(`${file}: cannot read the config: ${(e as Error).message.split('\n')[0]}`, `make it readable (chmod a+r ${file}) or remove it`);
    }
    const text = bytes.toString('utf8');
    if (name === 'package.json') {
      if (text.trim() === '') continue;
      const pkg = parseJsonConfig(file, text);
      const data = pkg && typeof pkg === 'object' && !Array.isArray(pkg) && Object.hasOwn(pkg, 'omni-ship') ? (pkg as Record<string, unknown>)['omni-ship'] : undefined;
      if (data === undefined || data === null) continue;
      return { file, kind: 'data', data };
    }
    if (text.trim() === '') return { file, kind: 'data', data: undefined };
    if (executesCode(file)) return { file, kind: 'code', bytes };
    return { file, kind: 'data', data: await parseDataConfig(file, text) };
  }
  return null;
}

/** Where a JavaScript error points inside `file`, from its stack ("file:line" or "file:line:column"), if it does. */
function locationIn(file: string, error: Error): string {
  const stack = String(error.stack ?? '');
  for (const name of [file, `file://${file}`]) {
    const at = stack.indexOf(`${name}:`);
    if (at < 0) continue;
    const m = /^:(\d+)(?::(\d+))?/.exec(stack.slice(at + name.length));
    if (m) return m[2] ? ` at line ${m[1]}, column ${m[2]}` : ` at line ${m[1]}`;
  }
  return '';
}

/** Imports an ES module config and returns its default export. */
async function importDefault(file: string): Promise<unknown> {
  return ((await import(pathToFileURL(fs.realpathSync(file)).href)) as { default?: unknown }).default;
}

/** Runs a JavaScript config (cosmiconfig's loader: import, else require) and returns what it exports. */
export async function runCodeConfig(file: string): Promise<unknown> {
  const { defaultLoaders } = await import('cosmiconfig');
  try {
    // an .mjs file is never CommonJS: cosmiconfig's require fallback would only hide why the import failed
    return path.extname(file) === '.mjs' ? await importDefault(file) : await defaultLoaders[path.extname(file) as '.js' | '.cjs'](file, '');
  } catch (e) {
    let err = e as Error;
    // an ES module .js that failed to import: the require fallback's complaint hides the real error, which a
    // second import gives back
    if (/Cannot require\(\) ES Module/.test(String(err.message))) err = await importDefault(file).then(() => err, (real: Error) => real);
    throw badInput(`${file}: cannot load the config (JavaScript): ${String(err.message).split('\n')[0]}${locationIn(file, err)}`, `fix ${file}, then check it with: omni-ship config`);
  }
}
