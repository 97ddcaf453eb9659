/**
 * Reads JSON with comments and trailing commas (the dialect of .vscode/*.json files). Pure.
 */
export function stripJsonComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  // Trailing commas before } or ] (strings were copied verbatim, so only code is touched… almost:
  // a string holding ",}" would be altered, which JSON configuration values never need).
  return out.replace(/,(\s*[}\]])/g, '$1');
}

/** Parses JSONC; the error names the file. */
export function parseJsonc(text: string, source: string): unknown {
  try {
    return JSON.parse(stripJsonComments(text));
  } catch (err) {
    throw new Error(`${source}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}
