import { BLOCK_BEGIN, BLOCK_END } from './templates.js';

/** The shebang omni-ship writes when it creates a hook file for a block. */
export const CREATED_SHEBANG = '#!/usr/bin/env sh\n';

/** Where omni-ship's block sits in a hook file's text: from its first line up to the end of its last. */
interface BlockSpan {
  start: number;
  end: number;
}

/** The block's span; null when the text has no block; 'broken' when a marker line is there but no whole block. */
function blockSpan(text: string): BlockSpan | null | 'broken' {
  const start = text.indexOf(BLOCK_BEGIN);
  if (start < 0) return text.includes(BLOCK_END) ? 'broken' : null;
  const last = text.indexOf(BLOCK_END, start);
  if (last < 0) return 'broken';
  const nl = text.indexOf('\n', last);
  return { start, end: nl >= 0 ? nl + 1 : text.length };
}

/**
 * omni-ship's block as it stands in a hook file's text (its marker lines included), null when there is none, or
 * 'broken' when only part of it is left (a marker line without the other): the user changed it.
 */
export function blockIn(text: string): string | null | 'broken' {
  const span = blockSpan(text);
  return span === null || span === 'broken' ? span : text.slice(span.start, span.end);
}

/** Inserts (or replaces) omni-ship's block in a hook file's text: after a `#!` line, else at the top. */
export function withBlock(text: string, block: string): string {
  const span = blockSpan(text);
  if (span !== null && span !== 'broken') return text.slice(0, span.start) + block + text.slice(span.end);
  if (text.startsWith('#!')) {
    const nl = text.indexOf('\n');
    if (nl < 0) return `${text}\n${block}`;
    return text.slice(0, nl + 1) + block + text.slice(nl + 1);
  }
  return block + text;
}

/** Removes omni-ship's block from a hook file's text, exactly the bytes withBlock added; null when there is none. */
export function withoutBlock(text: string): string | null {
  const span = blockSpan(text);
  if (span === null || span === 'broken') return null;
  return text.slice(0, span.start) + text.slice(span.end);
}
