import { promises as fs } from 'node:fs';
import { parseResult, type LosscapeResult } from '../../shared/result';

/** Reads and validates a `*.losscape.json`; errors name the file and say what is wrong. */
export async function readResultFile(file: string): Promise<LosscapeResult> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot be read (${code ?? String(err)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  return parseResult(json, file);
}

/** The cached result at `file` if it exists, is valid and complete; undefined otherwise. */
export async function readCompleteResult(file: string): Promise<LosscapeResult | undefined> {
  try {
    const result = await readResultFile(file);
    return result.complete ? result : undefined;
  } catch {
    return undefined;
  }
}
