import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import type { AnalysisReport } from '../../../src/extension/analysis/analysisRunner';
import { COMMANDS } from '../../../src/extension/commands/commandIds';
import type { FitScalingArgs } from '../../../src/extension/scaling/fitScalingLaw';
import { activated, closeAll, inWorkspace, readResult, waitFor } from './helpers';

describe('Fit Scaling Law (CSV of runs → engine → scaling panel)', () => {
  before(() => activated());
  afterEach(() => closeAll());

  it('offers a CodeLens on a runs CSV and fits it in the engine, the panel drawn', async () => {
    const api = await activated();
    const uri = vscode.Uri.file(inWorkspace('runs.csv'));
    await vscode.window.showTextDocument(uri);
    const lenses = await waitFor('the Fit Scaling Law lens', async () => {
      const all = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 10)) ?? [];
      const mine = all.filter((l) => l.command?.command === COMMANDS.fitScalingLaw.id);
      return mine.length ? mine : undefined;
    });
    assert.equal(lenses.length, 1);
    assert.equal(lenses[0].range.start.line, 0);
    assert.match(lenses[0].command?.title ?? '', /^Fit Scaling Law \(params · tokens · loss\)$/);
    const args = lenses[0].command?.arguments?.[0] as FitScalingArgs;
    assert.deepEqual(args.columns, { run: 'run', params: 'params', tokens: 'tokens', loss: 'loss', step: 'step' });

    const before = api.renders().length;
    const report = await vscode.commands.executeCommand<AnalysisReport | undefined>(COMMANDS.fitScalingLaw.id, { ...args, law: 'chinchilla', holdout: 'largest', bootstrap: 20, grid: 'coarse', recompute: true });
    assert.ok(report, 'the command returns its report');
    assert.equal(report.complete, true, report.error);
    assert.ok(report.out.startsWith(inWorkspace('.losscape')), report.out);
    assert.match(report.out, /runs-scaling-[0-9a-f]{12}\.losscape\.json$/);
    const result = readResult(report.out);
    assert.ok(result?.kind === 'scaling' && result.complete);
    assert.equal(result.result.law, 'chinchilla');
    assert.ok(result.result.holdout && result.result.fit.intervals?.alpha);
    await waitFor('the scaling panel to draw', () => api.renders().slice(before).find((r) => r.kind === 'scaling'), 30_000);

    const again = await vscode.commands.executeCommand<AnalysisReport | undefined>(COMMANDS.fitScalingLaw.id, { ...args, law: 'chinchilla', holdout: 'largest', bootstrap: 20, grid: 'coarse' });
    assert.equal(again?.cached, true, 'the same table and options reuse the saved fit');
  });
});
