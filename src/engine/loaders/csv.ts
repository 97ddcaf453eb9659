/**
 * CSV data sets: one header row naming the columns, one label column, every other column a
 * numeric feature. Labels whose values are all non-negative integers (`1` or `1.0`) are class
 * indices; anything else is a float regression target. Integer-valued regression targets
 * therefore read as classes; the loss chosen later decides how they are used.
 */
import { parse } from 'csv-parse/sync';
import { InputError } from '../../shared/errors';

export interface CsvData {
  x: Float32Array;
  xShape: [number, number];
  y: Float32Array;
  yShape: [number];
  labelsAreIndices: boolean;
  featureColumns: string[];
}

interface Row {
  record: string[];
  info: { lines: number };
}

/** Comma unless the header line clearly uses semicolons (European Excel) or tabs. */
function guessDelimiter(text: string): string {
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const count = (c: string): number => firstLine.split(c).length - 1;
  const candidates = [',', ';', '\t'];
  let best = ',';
  for (const c of candidates) if (count(c) > count(best)) best = c;
  return best;
}

const looksNumeric = (s: string): boolean => s.trim() !== '' && Number.isFinite(Number(s));

export function parseCsv(text: string, source: string, labelColumn: string): CsvData {
  let rows: Row[];
  try {
    rows = parse(text, {
      bom: true,
      delimiter: guessDelimiter(text),
      info: true,
      skip_empty_lines: true,
      trim: true,
    }) as Row[];
  } catch (e) {
    // csv-parse messages already name the line, e.g. "Invalid Record Length: ... on line 4".
    const msg = (e as Error).message.split('\n')[0];
    throw new InputError(source, `is not valid CSV: ${msg}`);
  }
  if (rows.length === 0) throw new InputError(source, 'is empty; expected a header row and data rows');
  const header = rows[0].record;
  if (header.every(looksNumeric)) {
    throw new InputError(source, `has no header row (its first line is all numbers); add a first line naming the columns, with one called '${labelColumn}'`);
  }
  const labelIndex = header.indexOf(labelColumn);
  if (labelIndex < 0) {
    throw new InputError(source, `has no label column '${labelColumn}'; columns are: ${header.join(', ')} (choose one with the labelColumn option)`);
  }
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup !== undefined) throw new InputError(source, `has two columns named '${dup}'; rename one`);
  const featureColumns = header.filter((_, i) => i !== labelIndex);
  if (featureColumns.length === 0) throw new InputError(source, `has only the label column '${labelColumn}'; it needs at least one feature column`);

  const n = rows.length - 1;
  if (n === 0) throw new InputError(source, 'has a header row but no data rows');
  const d = featureColumns.length;
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  let integral = true;
  for (let r = 0; r < n; r++) {
    const { record, info } = rows[r + 1];
    let j = 0;
    for (let c = 0; c < record.length; c++) {
      const cell = record[c];
      if (!looksNumeric(cell)) {
        const what = cell.trim() === '' ? 'an empty cell' : `'${cell.length > 20 ? cell.slice(0, 20) + '…' : cell}'`;
        throw new InputError(source, `line ${info.lines}, column '${header[c]}': ${what} is not a number; every feature and the label must be numeric`);
      }
      const v = Number(cell);
      if (c === labelIndex) {
        y[r] = v;
        if (!Number.isInteger(v) || v < 0) integral = false;
      } else {
        x[r * d + j++] = v;
      }
    }
  }
  return { x, xShape: [n, d], y, yShape: [n], labelsAreIndices: integral, featureColumns };
}
