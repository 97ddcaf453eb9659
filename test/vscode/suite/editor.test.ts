/**
 * The editor experience (issue 14), in the real extension host: a CodeLens's loss never changes
 * what the numbers mean, a configuration's dims decides, one panel per configuration, problems of
 * losscape.json in the Problems panel on the right line, a refused run opens no panel.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { AnalysisReport } from '../../../src/extension/analysis/analysisRunner';
import type { LensCommandArgs } from '../../../src/extension/codelens/lossCodeLensProvider';
import { COMMANDS, LENS_COMMAND } from '../../../src/extension/commands/commandIds';
import { modelProvenance } from '../../../src/shared/result';
import { activated, closeAll, inWorkspace, readResult, waitFor } from './helpers';

const run = (command: string, arg: unknown): Thenable<AnalysisReport | undefined> => vscode.commands.executeCommand<AnalysisReport | undefined>(command, arg);

async function lensesOf(file: string): Promise<LensCommandArgs[]> {
  const uri = vscode.Uri.file(inWorkspace(file));
  await vscode.workspace.openTextDocument(uri);
  const all = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [];
  return all.filter((l) => l.command?.command === LENS_COMMAND).map((l) => l.command?.arguments?.[0] as LensCommandArgs);
}

function centerLoss(report: AnalysisReport | undefined): number {
  assert.ok(report?.complete, report?.error);
  const r = readResult(report.out);
  assert.ok(r?.kind === 'landscape' && r.result.dims === 2);
  return r.result.centerLoss;
}

/** Webview tabs titled `title`, over every tab group. */
function panelTabs(title: string): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.label === title);
}

describe('editor experience (issue 14)', () => {
  before(() => activated());
  afterEach(() => closeAll());

  it('a PyTorch CrossEntropyLoss lens on the softmax model gives the configuration\'s loss (1e-6), recorded as the lens\'s', async () => {
    const configured = centerLoss(await run(COMMANDS.plotLandscape2D.id, { configuration: 'tiny 2D', recompute: true }));
    const ce = (await lensesOf('train.py')).find((a) => a.action === 'landscape' && a.site.library === 'CrossEntropyLoss');
    assert.ok(ce);
    const report = await run(LENS_COMMAND, { ...ce, configuration: 'tiny 2D' });
    const viaLens = centerLoss(report);
    assert.ok(Math.abs(viaLens - configured) <= 1e-6, `lens ${viaLens} vs configuration ${configured}`);
    const loss = modelProvenance(readResult(report!.out))!.loss;
    assert.equal(loss.origin, 'lens');
    assert.equal(loss.name, 'categorical_crossentropy');
    assert.deepEqual({ ...loss.lens, file: undefined }, { file: undefined, line: 21, symbol: 'nn.CrossEntropyLoss', library: 'CrossEntropyLoss', semantics: 'logits' });
  });

  it("a lens agreeing with the configuration's explicit loss runs the configuration as it is", async () => {
    const configured = await run(COMMANDS.plotLandscape2D.id, { configuration: 'tiny 2D explicit', recompute: true });
    const ce = (await lensesOf('train.py')).find((a) => a.action === 'landscape' && a.site.library === 'CrossEntropyLoss');
    const viaLens = await run(LENS_COMMAND, { ...ce, configuration: 'tiny 2D explicit' });
    assert.equal(viaLens?.out, configured?.out, 'the same inputs: the same (cached) result');
    assert.ok(Math.abs(centerLoss(viaLens) - centerLoss(configured)) <= 1e-6);
    assert.equal(modelProvenance(readResult(viaLens!.out))?.loss.origin, 'option');
  });

  it("a lens naming another loss than the configuration's runs it, records the configuration's, and warns", async () => {
    const js = (await lensesOf('src/losses.js')).find((a) => a.action === 'landscape');
    assert.ok(js);
    const report = await run(LENS_COMMAND, { ...js, configuration: 'tiny 2D explicit' });
    assert.ok(report?.complete, report?.error);
    const loss = modelProvenance(readResult(report.out))?.loss;
    assert.equal(loss?.origin, 'lens');
    assert.equal(loss?.lens?.configured, 'sparse_categorical_crossentropy');
    assert.equal(loss?.lens?.symbol, js.site.symbol);
  });

  it('a configuration\'s "dims": 1 runs 1D under Plot Loss Landscape (2D), titled 1D', async () => {
    const api = await activated();
    const report = await run(COMMANDS.plotLandscape2D.id, { configuration: 'tiny 1D', recompute: true });
    assert.ok(report?.complete, report?.error);
    const r = readResult(report.out);
    assert.ok(r?.kind === 'landscape' && r.result.dims === 1, 'the configuration says 1D');
    assert.match(report.out, /tiny-1d-landscape-1d-/);
    await waitFor('the panel', () => (api.panelCount() > 0 ? true : undefined), 10_000);
    const labels = (): string => vscode.window.tabGroups.all.flatMap((g) => g.tabs).map((t) => t.label).join(' | ');
    await waitFor(`its tab (tabs now: ${labels()})`, () => (panelTabs('tiny 1D · loss landscape 1D').length === 1 ? true : undefined), 10_000);
    assert.equal(panelTabs('tiny 1D · loss landscape 2D').length, 0);
  });

  it('keeps one panel per configuration: two runs (one with other options) share it, in one column', async () => {
    const api = await activated();
    await run(COMMANDS.plotLandscape2D.id, { configuration: 'tiny 2D', recompute: true });
    await run(COMMANDS.plotLandscape2D.id, { configuration: 'tiny 2D', recompute: true });
    await run(COMMANDS.plotLandscape2D.id, { configuration: 'tiny 2D explicit' });
    assert.equal(api.panelCount(), 2);
    const tabs = panelTabs('tiny 2D · loss landscape 2D');
    assert.equal(tabs.length, 1, 'one tab for the configuration after two runs');
    const columns = new Set([...tabs, ...panelTabs('tiny 2D explicit · loss landscape 2D')].map((t) => t.group.viewColumn));
    assert.equal(columns.size, 1, 'the second configuration opens in the Losscape column, not in a new one');
  });

  it('puts losscape.json problems in the Problems panel on their line, and refuses such a run without opening a panel', async () => {
    const api = await activated();
    const file = inWorkspace('.vscode', 'losscape.json');
    const original = readFileSync(file, 'utf8');
    const bad =
      '    { "name": "bad loss", "analysis": "landscape", "model": "models/tiny/model.json", "data": "data/tiny.npz",\n' +
      '      "loss": "focal" },\n' +
      '    { "name": "bad model", "analysis": "sharpness", "model": "models/missing/model.json", "data": "data/tiny.npz" },\n';
    writeFileSync(file, original.replace('  "configurations": [\n', `  "configurations": [\n${bad}`));
    try {
      const lines = readFileSync(file, 'utf8').split('\n');
      const lossLine = lines.findIndex((l) => l.includes('"loss": "focal"'));
      const modelLine = lines.findIndex((l) => l.includes('models/missing/model.json'));
      const uri = vscode.Uri.file(file);
      const ours = (): vscode.Diagnostic[] => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'Losscape');
      await api.refreshDiagnostics();
      const diags = await waitFor('the Losscape diagnostics', () => (ours().length >= 2 ? ours() : undefined), 10_000);
      const loss = diags.find((d) => d.code === 'loss');
      const model = diags.find((d) => d.code === 'model');
      assert.equal(loss?.range.start.line, lossLine);
      assert.match(loss?.message ?? '', /"bad loss": unknown loss "focal"; supported: .*sparse_categorical_crossentropy/);
      assert.equal(model?.range.start.line, modelLine);
      assert.match(model?.message ?? '', /"bad model": the model models\/missing\/model\.json does not exist/);
      assert.equal(diags.length, 2, diags.map((d) => d.message).join('\n'));

      const panels = api.panelCount();
      assert.equal(await run(COMMANDS.plotLandscape2D.id, 'bad loss'), undefined, 'refused before the engine');
      assert.equal(await run(COMMANDS.measureSharpness.id, 'bad model'), undefined);
      assert.equal(api.panelCount(), panels, 'a refused run opens no panel');
    } finally {
      writeFileSync(file, original);
    }
    await api.refreshDiagnostics();
    assert.deepEqual(vscode.languages.getDiagnostics(vscode.Uri.file(file)).filter((d) => d.source === 'Losscape'), []);
  });

  it('a run the engine rejects leaves no panel of red text behind', async () => {
    const api = await activated();
    const panels = api.panelCount();
    // 5 outputs of the model against labels of 3 classes is fine; a model that is not a model is not.
    const report = await run(COMMANDS.plotLandscape1D.id, { configuration: { name: 'not a model', analysis: 'landscape', model: 'data/tiny.npz', data: 'data/tiny.npz', dims: 1 }, recompute: true });
    assert.ok(report && !report.complete && report.error, 'the engine refused it');
    assert.equal(api.panelCount(), panels);
  });
});
