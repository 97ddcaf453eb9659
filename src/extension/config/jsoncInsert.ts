/**
 * Appends an element to the top-level `"configurations"` array of a JSONC text, keeping the
 * user's comments and layout (the file is edited by hand, like launch.json). Pure.
 */

/** Offsets of code characters (outside strings and comments) with their nesting depth. */
function* codeChars(text: string): Generator<{ i: number; c: string; depth: number }> {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      yield { i: start, c: '"', depth };
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 1;
      continue;
    }
    if (c === '{' || c === '[') yield { i, c, depth: depth++ };
    else if (c === '}' || c === ']') yield { i, c, depth: --depth };
    else if (!/\s/.test(c)) yield { i, c, depth };
  }
}

/**
 * The text with `element` (already serialised) appended to `configurations`, or undefined when
 * the text does not have that shape (the caller then rewrites the file).
 */
export function appendConfiguration(text: string, element: string): string | undefined {
  let arrayOpen = -1;
  let arrayDepth = -1;
  let last: { i: number; c: string } | undefined;
  let sawKey = false;
  let sawColon = false;
  for (const t of codeChars(text)) {
    if (arrayOpen === -1) {
      if (t.c === '"' && t.depth === 1) {
        sawKey = text.startsWith('"configurations"', t.i);
        sawColon = false;
      } else if (sawKey && t.c === ':' && t.depth === 1) sawColon = true;
      else if (sawKey && sawColon && t.c === '[' && t.depth === 1) {
        arrayOpen = t.i;
        arrayDepth = t.depth;
        last = t;
      } else if (t.depth === 1 && t.c !== '"') sawKey = sawKey && t.c === ':';
      continue;
    }
    if (t.c === ']' && t.depth === arrayDepth) {
      const indent = /\n([ \t]*)[^\n]*$/.exec(text.slice(0, arrayOpen))?.[1] ?? '';
      const inner = `${indent}  `;
      const body = element.split('\n').join(`\n${inner}`);
      if (last && last.c === '[') return `${text.slice(0, arrayOpen + 1)}\n${inner}${body}\n${indent}${text.slice(t.i)}`;
      if (!last) return undefined;
      const after = last.i + 1;
      const sep = last.c === ',' ? '' : ',';
      return `${text.slice(0, after)}${sep}\n${inner}${body}${text.slice(after)}`;
    }
    last = t;
  }
  return undefined;
}
