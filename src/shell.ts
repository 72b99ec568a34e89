/** Quotes a value for POSIX sh: single quotes, with embedded quotes closed, escaped and reopened. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
