import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import type { AnalysisReport } from '../../../src/extension/analysis/analysisRunner';
import type { LensCommandArgs } from '../../../src/extension/codelens/lossCodeLensProvider';
import { COMMANDS, LENS_COMMAND } from '../../../src/extension/commands/commandIds';
import { activated, closeAll, inWorkspace, readResult, waitFor } from './helpers';

const run = (command: string, arg: unknown): Thenable<AnalysisReport | undefined> => vscode.commands.executeCommand<AnalysisReport | undefined>(command, arg);

/** Compare Losses from the palette command and from the CodeLens, with the real engine. */
describe('Compare Losses end to end (real engine process)', () => {
  before(() => activated());
  afterEach(() => closeAll());

  async function runAndDraw(command: string, arg: unknown) {
    const api = await activated();
    const before = api.renders().length;
    const report = await run(command, arg);
    assert.ok(report, `${command} returns its report`);
    assert.equal(report.complete, true, report.error);
    const result = readResult(report.out);
    assert.ok(result?.complete && result.kind === 'loss-comparison', `${report.out} holds a complete loss comparison`);
    await waitFor('the loss-comparison panel to draw', () => api.renders().slice(before).find((r) => r.kind === 'loss-comparison'), 60_000);
    return result;
  }

  it('the command compares the given losses on a configuration’s model and data; the panel draws', async () => {
    const r = await runAndDraw(COMMANDS.compareLosses.id, { configuration: 'tiny sharpness', losses: 'ce,gce:q=0.7', recompute: true });
    assert.ok(r.kind === 'loss-comparison');
    assert.deepEqual(r.result.losses.map((e) => e.given), ['ce', 'gce:q=0.7']);
    assert.equal(r.options.samples, 32);
    assert.ok(r.result.losses.every((e) => e.eigenvalues.length === 3 && Number.isFinite(e.trace.estimate)));
  });

  it('the Compare losses CodeLens leads with the loss under the lens', async () => {
    const uri = vscode.Uri.file(inWorkspace('train.py'));
    await vscode.workspace.openTextDocument(uri);
    const lenses = ((await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [])
      .filter((l) => l.command?.command === LENS_COMMAND)
      .map((l) => ({ title: l.command?.title, args: l.command?.arguments?.[0] as LensCommandArgs }));
    const lens = lenses.find((l) => l.args.action === 'compare' && l.args.site.library === 'CrossEntropyLoss');
    assert.ok(lens, 'a Compare losses lens on CrossEntropyLoss');
    assert.equal(lens.title, 'Compare losses');
    const r = await runAndDraw(LENS_COMMAND, { ...lens.args, configuration: 'tiny sharpness', losses: 'comp_sum:tau=0.5' });
    assert.ok(r.kind === 'loss-comparison');
    assert.deepEqual(r.result.losses.map((e) => e.name), ['categorical_crossentropy', 'comp_sum']);
    assert.ok(r.result.losses[0].lossInfo.reading === 'pre-activation', 'a softmax-final model: the pre-softmax values');
  });
});
