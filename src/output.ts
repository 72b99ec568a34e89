/** What a command hands back to the CLI layer: its JSON shape, its human text, and an exit code. */
export interface CommandOutput<T = unknown> {
  data: T;
  text: string;
  exitCode?: 0 | 1 | 2 | 3 | 70 | 75 | 130;
  /** the JSON to print for --json, as text already (an answer stored as printed); else data is stringified */
  jsonText?: string | Uint8Array;
  /** lines for stderr even on success (warnings) */
  warnings?: string[];
}

/** True when colors are wanted on stdout: a TTY, and NO_COLOR unset (https://no-color.org). */
export function colorEnabled(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && process.env.TERM !== 'dumb';
}

const codes = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;

/** Wraps text in an ANSI style when colors are enabled. */
export function style(name: keyof typeof codes, text: string, enabled = colorEnabled()): string {
  if (!enabled) return text;
  const [open, close] = codes[name];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}

/** Lays rows out in aligned columns (for TTY tables and plain text alike). */
export function columns(rows: string[][], gap = 2): string {
  const visible = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '').length;
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(cell))));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visible(cell) + gap)))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}
