/** Where a text stops being JSON, and why. */
export interface JsonSyntaxError {
  /** UTF-16 offset of the first character that cannot be read (text.length at a premature end) */
  offset: number;
  reason: string;
}

/** A 1-based line and column (in characters) of an offset in a text, as an editor shows it. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: [...before.slice(lineStart)].length + 1 };
}

/**
 * Finds the first syntax error of a JSON text (RFC 8259, as JSON.parse reads it), or null when it is valid.
 * JSON.parse of Node 20 says what is wrong but often not where ("Unexpected token '}', ... is not valid JSON"),
 * and a config error must name the line and column.
 */
export function jsonSyntaxError(text: string): JsonSyntaxError | null {
  let i = 0;
  const fail = (reason: string, at = i): never => {
    throw Object.assign(new Error(reason), { jsonOffset: at });
  };
  const shown = (at: number): string => {
    if (at >= text.length) return 'the end of the file';
    const c = text.codePointAt(at)!;
    return c > 0x20 && c !== 0x7f ? `'${String.fromCodePoint(c)}'` : `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  };
  // a bare word where a value belongs ("yes", "tru"): name all of it, from where it starts
  const word = (at: number): string => {
    const bare = /[A-Za-z_$][A-Za-z0-9_$]*/y;
    bare.lastIndex = at;
    const m = bare.exec(text);
    return m ? `'${m[0]}'` : shown(at);
  };
  const end = (what: string) => (i >= text.length ? fail(`unexpected end of the file${what}`) : undefined);
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const literal = (expected: string) => {
    const start = i;
    for (const ch of expected) {
      if (text[i] !== ch) fail(`expected a value, found ${word(start)}`, start);
      i++;
    }
  };
  const string = () => {
    i++; // the opening quote
    for (;;) {
      end(' inside a string');
      const ch = text[i]!;
      if (ch === '"') return void i++;
      if (ch.charCodeAt(0) < 0x20) fail(`a control character (${shown(i)}) inside a string`);
      if (ch === '\\') {
        i++;
        end(' inside a string');
        const e = text[i]!;
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('an invalid \\u escape: it takes four hex digits', i - 1);
          i += 5;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e)) fail(`an invalid escape \\${e} inside a string`, i - 1);
      }
      i++;
    }
  };
  const number = () => {
    const grammar = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
    grammar.lastIndex = i;
    const m = grammar.exec(text);
    if (!m) fail('an invalid number');
    i += m![0].length;
    // "01", "1.", "1e": the number grammar stopped early at a character that would continue a number
    if (i < text.length && /[0-9.eE+-]/.test(text[i]!)) fail(`an invalid number`, i);
  };
  const value = (): void => {
    ws();
    end('');
    const ch = text[i]!;
    if (ch === '{') return object();
    if (ch === '[') return array();
    if (ch === '"') return string();
    if (ch === 't') return literal('true');
    if (ch === 'f') return literal('false');
    if (ch === 'n') return literal('null');
    if (ch === '-' || (ch >= '0' && ch <= '9')) return number();
    fail(`expected a value, found ${word(i)}`);
  };
  const object = () => {
    i++;
    ws();
    if (text[i] === '}') return void i++;
    for (;;) {
      ws();
      end('');
      if (text[i] !== '"') fail(`expected a property name in double quotes, found ${shown(i)}`);
      string();
      ws();
      end('');
      if (text[i] !== ':') fail(`expected ':' after the property name, found ${shown(i)}`);
      i++;
      value();
      ws();
      end('');
      if (text[i] === '}') return void i++;
      if (text[i] !== ',') fail(`expected ',' or '}' after a property value, found ${shown(i)}`);
      i++;
    }
  };
  const array = () => {
    i++;
    ws();
    if (text[i] === ']') return void i++;
    for (;;) {
      value();
      ws();
      end('');
      if (text[i] === ']') return void i++;
      if (text[i] !== ',') fail(`expected ',' or ']' after a list item, found ${shown(i)}`);
      i++;
    }
  };
  try {
    value();
    ws();
    if (i < text.length) fail(`unexpected ${shown(i)} after the end of the JSON value`);
    return null;
  } catch (e) {
    // nesting deeper than the stack allows: valid or not, no place to name
    if (e instanceof RangeError) return null;
    const offset = (e as { jsonOffset?: number }).jsonOffset;
    if (offset === undefined) throw e;
    return { offset, reason: (e as Error).message };
  }
}
