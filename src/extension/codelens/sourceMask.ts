/**
 * Blanks out comments and the contents of string literals, keeping every offset and newline,
 * so that pattern matching on the result only ever sees code. String delimiters are kept (a
 * literal's value is read back from the original text at the same offsets). Pure: no `vscode`.
 */
export type SourceLanguage = 'python' | 'js';

const blank = (s: string): string => s.replace(/[^\n]/g, ' ');

export function maskSource(text: string, language: SourceLanguage): string {
  return language === 'python' ? maskPython(text) : maskJs(text);
}

/** Index just past the closing `quote` (which may be three characters) starting the search at `from`. */
function endOfString(text: string, from: number, quote: string, stopAtNewline: boolean): number {
  let i = from;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (stopAtNewline && c === '\n') return i;
    if (text.startsWith(quote, i)) return i + quote.length;
    i++;
  }
  return text.length;
}

function maskPython(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '#') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      out += blank(text.slice(i, stop));
      i = stop;
      continue;
    }
    if (c === '"' || c === "'") {
      const quote = text.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
      const end = endOfString(text, i + quote.length, quote, quote.length === 1);
      const closed = text.startsWith(quote, end - quote.length) && end - quote.length >= i + quote.length;
      const contentEnd = closed ? end - quote.length : end;
      out += quote + blank(text.slice(i + quote.length, contentEnd)) + text.slice(contentEnd, end);
      i = end;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** Where a `/` starts a regular expression literal rather than a division. */
function regexCanStart(code: string): boolean {
  const before = code.replace(/\s+$/, '');
  if (before === '') return true;
  if (/[(,=:[!&|?{};+\-*%<>~^]$/.test(before)) return true;
  return /\b(return|typeof|case|do|else|in|of|void|yield|await)$/.test(before);
}

function maskJs(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      out += blank(text.slice(i, stop));
      i = stop;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      out += blank(text.slice(i, stop));
      i = stop;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      const end = endOfString(text, i + 1, c, c !== '`');
      const closed = end > i + 1 && text[end - 1] === c;
      const contentEnd = closed ? end - 1 : end;
      out += c + blank(text.slice(i + 1, contentEnd)) + text.slice(contentEnd, end);
      i = end;
      continue;
    }
    if (c === '/' && regexCanStart(out)) {
      let j = i + 1;
      let inClass = false;
      while (j < text.length && text[j] !== '\n') {
        const d = text[j];
        if (d === '\\') j++;
        else if (d === '[') inClass = true;
        else if (d === ']') inClass = false;
        else if (d === '/' && !inClass) break;
        j++;
      }
      if (text[j] === '/') {
        out += '/' + blank(text.slice(i + 1, j)) + '/';
        i = j + 1;
        continue;
      }
    }
    out += c;
    i++;
  }
  return out;
}
