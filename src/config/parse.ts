import path from 'node:path';
import { badInput, type UserError } from '../errors.js';
import { jsonSyntaxError, lineColumn } from './json-syntax.js';

/** The user error for a config file that is not valid `format`, naming the line and column. */
function syntaxError(file: string, format: string, reason: string, line: number, column: number): UserError {
  return badInput(
    `${file}: cannot parse the config (${format}): ${reason} at line ${line}, column ${column}`,
    `fix ${file}:${line}:${column}, then check it with: omni-ship config`,
  );
}

/** Parses a JSON config (or package.json); a syntax error names its line and column. */
export function parseJsonConfig(file: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const found = jsonSyntaxError(text);
    if (!found) throw badInput(`${file}: cannot parse the config (JSON): ${(e as Error).message}`);
    const { line, column } = lineColumn(text, found.offset);
    throw syntaxError(file, 'JSON', found.reason, line, column);
  }
}

/** Parses a YAML config (also `.omni-shiprc`, whose JSON YAML reads too); a syntax error names its line and column. */
export async function parseYamlConfig(file: string, text: string): Promise<unknown> {
  const { defaultLoaders } = await import('cosmiconfig');
  try {
    return await defaultLoaders['.yaml'](file, text);
  } catch (e) {
    // js-yaml's YAMLException: `reason` says what, `mark` (0-based) where
    const err = e as Error & { reason?: string; mark?: { line: number; column: number } };
    if (err.mark && err.reason) throw syntaxError(file, 'YAML', err.reason, err.mark.line + 1, err.mark.column + 1);
    throw badInput(`${file}: cannot parse the config (YAML): ${err.message.split('\n').slice(1).join(' ').trim() || err.message}`);
  }
}

/** Parses the text of a data config file by its name: JSON for `.json` and package.json, YAML otherwise. */
export async function parseDataConfig(file: string, text: string): Promise<unknown> {
  return path.extname(file) === '.json' ? parseJsonConfig(file, text) : await parseYamlConfig(file, text);
}
