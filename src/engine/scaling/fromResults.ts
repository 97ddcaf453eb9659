/**
 * A runs table from Losscape's own checkpoint-series results (kind `grokking`): one row per
 * checkpoint with N = the model's parameter count, D = step × samples per step, the loss the
 * series recorded there (test loss by default, the train loss when the result has no test
 * split), run = the result file's name. Step 0 (D = 0) and checkpoints without a loss are left
 * out — they carry no information about a power law in D.
 */
import path from 'node:path';
import { InputError } from '../../shared/errors';
import { readInputFile } from '../loaders/inputFile';
import { parseResult } from '../../shared/result';
import type { ScalingRow } from '../../shared/results/scaling';

export interface FromResultsOptions {
  samplesPerStep?: number;
  lossSeries: 'test' | 'train';
}

export function rowsFromResults(files: string[], opts: FromResultsOptions): ScalingRow[] {
  const rows: ScalingRow[] = [];
  for (const file of files) {
    const text = readInputFile(file, 'result file').toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new InputError(file, `is not valid JSON: ${(e as Error).message.split('\n')[0]}`);
    }
    const result = parseResult(json, file);
    if (result.kind !== 'grokking') throw new InputError(file, `is a '${result.kind}' result; --from-results reads checkpoint-series (grokking) results`);
    const g = result.result;
    const N = result.provenance.model.parameterCount;
    if (!(N > 0)) throw new InputError(file, 'records no parameter count');
    const perStep = opts.samplesPerStep ?? result.provenance.data.samplesUsed;
    if (!(perStep > 0)) throw new InputError(file, 'records no training samples; give --samples-per-step');
    const hasTest = g.testLoss.some((v) => v !== null);
    const series = opts.lossSeries === 'test' && hasTest ? g.testLoss : g.trainLoss;
    const run = path.basename(file).replace(/\.losscape\.json$/, '');
    g.steps.forEach((step, i) => {
      const loss = series[i];
      if (step <= 0 || loss === null || !(loss > 0)) return;
      const D = step * perStep;
      rows.push({ run, N, D, C: 6 * N * D, loss, step });
    });
  }
  return rows;
}
