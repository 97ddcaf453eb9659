import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import type { AnalysisReport } from '../../../src/extension/analysis/analysisRunner';
import type { LensCommandArgs } from '../../../src/extension/codelens/lossCodeLensProvider';
import { COMMANDS, LENS_COMMAND } from '../../../src/extension/commands/commandIds';
import type { LosscapeResult } from '../../../src/shared/result';
import { activated, closeAll, inWorkspace, readResult, waitFor } from './helpers';

const run = (command: string, arg: unknown): Thenable<AnalysisReport | undefined> => vscode.commands.executeCommand<AnalysisReport | undefined>(command, arg);

/**
 * Runs a command to completion and waits for its panel to draw; returns the result file's
 * content. The fixture configurations are small (32 samples, few probes): a second or two each.
 */
async function runAndDraw(command: string, arg: unknown, panelKind: string): Promise<LosscapeResult> {
  const api = await activated();
  const before = api.renders().length;
  const report = await run(command, arg);
  assert.ok(report, `${command} returns its report`);
  assert.equal(report.complete, true, report.error);
  assert.ok(report.out.startsWith(inWorkspace('.losscape')), report.out);
  const result = readResult(report.out);
  assert.ok(result?.complete, `${report.out} holds a complete result`);
  await waitFor(`the ${panelKind} panel to draw`, () => api.renders().slice(before).find((r) => r.kind === panelKind), 30_000);
  return result;
}

describe('curvature, sharpness and checkpoint analyses end to end (real engine process)', () => {
  before(() => activated());
  afterEach(() => closeAll());

  it('Measure Sharpness: SAM for each ρ, ASAM, Keskar, average case; the sharpness panel draws', async () => {
    const r = await runAndDraw(COMMANDS.measureSharpness.id, { configuration: 'tiny sharpness', recompute: true }, 'sharpness');
    assert.ok(r.kind === 'sharpness');
    assert.deepEqual(r.result.sam.map((s) => s.rho), [0.01, 0.05]);
    assert.ok(r.result.sam.every((s) => Number.isFinite(s.firstOrder) && Number.isFinite(s.ascent)));
    assert.equal(r.options.samples, 32);
  });

  it('Hessian Spectrum: top eigenvalues with residuals and the trace by default; the Hessian panel draws', async () => {
    const r = await runAndDraw(COMMANDS.hessianSpectrum.id, { configuration: 'tiny hessian', recompute: true }, 'hessian');
    assert.ok(r.kind === 'hessian');
    assert.equal(r.result.operator, 'hessian');
    assert.equal(r.result.eigenvalues.length, 2);
    assert.ok(r.result.eigenvalues[0] >= r.result.eigenvalues[1]);
    assert.ok(r.result.trace && Number.isFinite(r.result.trace.estimate), 'the trace is on unless the configuration turns it off');
  });

  it('the Sharpness and Hessian CodeLens run those analyses with the loss under the lens', async () => {
    const uri = vscode.Uri.file(inWorkspace('train.py'));
    await vscode.workspace.openTextDocument(uri);
    const lenses = ((await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [])
      .filter((l) => l.command?.command === LENS_COMMAND)
      .map((l) => l.command?.arguments?.[0] as LensCommandArgs);
    const lens = (action: string): LensCommandArgs => {
      const found = lenses.find((a) => a.action === action && a.site.library === 'CrossEntropyLoss');
      assert.ok(found, `a ${action} lens on CrossEntropyLoss`);
      return found;
    };
    const hessian = await runAndDraw(LENS_COMMAND, { ...lens('hessian'), configuration: 'tiny hessian' }, 'hessian');
    assert.ok(hessian.kind === 'hessian');
    assert.equal(hessian.provenance.loss.name, 'categorical_crossentropy');
    // PyTorch CrossEntropyLoss takes logits: on this softmax-final model, the pre-softmax values (softmax not applied twice).
    assert.equal(hessian.provenance.loss.origin, 'lens');
    assert.equal(hessian.provenance.loss.lens?.semantics, 'logits');
    const sharpness = await run(LENS_COMMAND, { ...lens('sharpness'), configuration: 'tiny sharpness' });
    assert.equal(sharpness?.complete, true, sharpness?.error);
    assert.equal(readResult(sharpness.out)?.kind, 'sharpness');
    assert.equal(await run(LENS_COMMAND, { ...lens('hessian'), configuration: 'tiny 2D' }), undefined, 'a landscape configuration does not run as a Hessian');
  });

  it('Grokking Statistics over the checkpoint series: every step, the test split, events; the dashboard draws; cached next time', async () => {
    const r = await runAndDraw(COMMANDS.grokkingStatistics.id, { configuration: 'tiny grokking', recompute: true }, 'grokking');
    assert.ok(r.kind === 'grokking');
    assert.deepEqual(r.result.steps, [0, 10, 20, 30]);
    assert.ok(r.result.trainLoss.every((v) => typeof v === 'number' && Number.isFinite(v)));
    assert.ok(r.result.testLoss.every((v) => typeof v === 'number'), 'the fixture data has a test split');
    assert.ok((r.result.trainLoss[3] as number) < (r.result.trainLoss[0] as number), 'training lowered the loss');
    const again = await run(COMMANDS.grokkingStatistics.id, 'tiny grokking');
    assert.equal(again?.cached, true, 'same checkpoints, data and options → the saved result');
  });

  it('Trajectory Landscape: the PCA plane of the series with the training path, drawn by the landscape panel', async () => {
    const r = await runAndDraw(COMMANDS.trajectoryLandscape.id, { configuration: 'tiny trajectory', recompute: true }, 'landscape');
    assert.ok(r.kind === 'landscape' && r.result.dims === 2);
    assert.ok(r.result.trajectory, 'a trajectory block');
    assert.deepEqual(r.result.trajectory.steps, [0, 10, 20, 30]);
    assert.equal(r.result.x.length, 11);
  });

  it('Pruning Saliency (M-FAC): per-layer saliency; the saliency panel draws', async () => {
    const r = await runAndDraw(COMMANDS.pruneSaliency.id, { configuration: 'tiny saliency', recompute: true }, 'saliency');
    assert.ok(r.kind === 'saliency');
    assert.equal(r.result.gradients, 16);
    assert.ok(r.result.layers.length >= 2);
  });

  it('refuses a configuration of another analysis, naming the command that runs it', async () => {
    assert.equal(await run(COMMANDS.plotLandscape2D.id, { configuration: 'tiny sharpness' }), undefined);
    assert.equal(await run(COMMANDS.measureSharpness.id, { configuration: 'tiny 2D' }), undefined);
    assert.equal(await run(COMMANDS.grokkingStatistics.id, { configuration: 'tiny trajectory' }), undefined);
  });
});
