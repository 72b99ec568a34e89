import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_FILES, type Config } from '../config.js';
import { packageRoot, packageVersion } from '../paths.js';
import { shQuote } from '../shell.js';
import { hookSettingsScript } from './settings.js';

/** The hooks omni-ship installs. */
export const HOOK_NAMES = ['commit-msg', 'post-commit', 'post-rewrite', 'post-merge'] as const;
/** One of HOOK_NAMES. */
export type HookName = (typeof HOOK_NAMES)[number];

/** The line every hook file omni-ship writes carries, so reinstall and uninstall recognise their own files. */
export const HOOK_MARKER = 'omni-ship-managed-hook';
/** The lines that bracket the block omni-ship adds to a hook file it does not own (husky's `.husky/<hook>`). */
export const BLOCK_BEGIN = '# >>> omni-ship >>> added by `omni-ship install-hooks`; `omni-ship uninstall-hooks` removes it';
export const BLOCK_END = '# <<< omni-ship <<<';

const hooksSource = path.join(packageRoot, 'hooks');

function read(name: string): string {
  return fs.readFileSync(path.join(hooksSource, name), 'utf8');
}

/** The awk program, without its comment lines, ready to sit inside single quotes in sh. */
function inlineAwk(): string {
  const code = read('trailer.awk')
    .split('\n')
    .filter((line) => !/^\s*#/.test(line) && line.trim() !== '')
    .join('\n');
  if (code.includes("'")) throw new Error("hooks/trailer.awk must not contain a single quote outside comments");
  return code;
}

/**
 * What @OMNI_SHIP_CHAINED@ becomes in `_os_chained=@OMNI_SHIP_CHAINED@`: the chained hook's path and, when there is
 * one, the call that runs it (post-rewrite hands it the stdin it saved). That call execs, or returns with
 * `_os_chained` emptied when the hook cannot run, so the template's own `[ -x "$_os_chained" ]` line after it only
 * runs when there is nothing to run.
 */
function chainedValue(name: HookName, chained: string | null): string {
  if (!chained) return "''";
  const call = name === 'post-rewrite' ? `printf '%s' "$_os_in" | _os_run_chained "$@"\nexit $?` : '_os_run_chained "$@"';
  return `${shQuote(chained)}\n${call}`;
}

/** What a generated hook needs to know about this machine and repository. */
export interface HookParams {
  node: string;
  entry: string;
  /** the foreign hook this one runs after itself, or null */
  chained: string | null;
  config: Config;
  configSource: string | null;
}

/** Renders one hook script from its template in hooks/. */
export function renderHook(name: HookName, p: HookParams): string {
  const values: Record<string, string> = {
    '@OMNI_SHIP_LIB@': read('lib.sh').trimEnd(),
    '@OMNI_SHIP_VERSION@': packageVersion(),
    '@OMNI_SHIP_NODE@': shQuote(p.node),
    '@OMNI_SHIP_ENTRY@': shQuote(p.entry),
    '@OMNI_SHIP_CHAINED@': chainedValue(name, p.chained),
    '@OMNI_SHIP_DEFAULTS@': hookSettingsScript(p.config, p.configSource),
    '@OMNI_SHIP_CONFIG_FILES@': CONFIG_FILES.join(' '),
    '@OMNI_SHIP_CR@': '\r',
  };
  let text = read(name);
  if (name === 'commit-msg') text = text.replace("'@OMNI_SHIP_AWK@'", () => `'${inlineAwk()}'`);
  // the library goes in first: it holds placeholders of its own
  text = text.replace('@OMNI_SHIP_LIB@', () => values['@OMNI_SHIP_LIB@']!);
  for (const [placeholder, value] of Object.entries(values)) text = text.split(placeholder).join(value);
  return text;
}

/**
 * The block added to a hook file omni-ship does not own. It finds omni-ship's script in the common git dir at run
 * time, so the file stays portable when it is committed (husky), and does nothing on clones without omni-ship.
 */
export function renderBlock(name: HookName): string {
  const locate = `_os_h="$(git rev-parse --git-common-dir 2>/dev/null)/omni-ship/hooks/${name}"`;
  const call =
    name === 'post-rewrite'
      ? // stdin is read once: give omni-ship a copy, then hand the same bytes to the rest of this file
        `if [ -x "$_os_h" ] && _os_t=$(mktemp 2>/dev/null); then cat > "$_os_t"; "$_os_h" "$@" < "$_os_t"; exec < "$_os_t"; rm -f "$_os_t"; fi`
      : `if [ -x "$_os_h" ]; then "$_os_h" "$@" || exit $?; fi`;
  return `${BLOCK_BEGIN}\n${locate}\n${call}\n${BLOCK_END}\n`;
}
