import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { AnalysisReport } from '../../../src/extension/analysis/analysisRunner';
import type { LensCommandArgs } from '../../../src/extension/codelens/lossCodeLensProvider';
import { COMMANDS, LENS_COMMAND } from '../../../src/extension/commands/commandIds';
import type { RunConfiguration } from '../../../src/extension/config/runConfig';
import { modelProvenance } from '../../../src/shared/result';
import { activated, closeAll, EXTENSION_ID, inWorkspace, readResult, rowsDone, waitFor } from './helpers';

const run = (command: string, arg: unknown): Thenable<AnalysisReport | undefined> => vscode.commands.executeCommand<AnalysisReport | undefined>(command, arg);

/** A landscape big enough to be stopped halfway (≈40k evaluations). */
const slow: RunConfiguration = { name: 'slow 2D', analysis: 'landscape', model: 'models/tiny/model.json', data: 'data/tiny.npz', points: 201, seed: 5 };

describe('analyses end to end (real engine process)', () => {
  before(() => activated());
  afterEach(() => closeAll());

  it('plots a 2D landscape from a configuration: result file complete, panel drawn', async () => {
    const api = await activated();
    const before = api.renders().length;
    const report = await run(COMMANDS.plotLandscape2D.id, { configuration: 'tiny 2D', recompute: true });
    assert.ok(report, 'the command returns its report');
    assert.equal(report.complete, true, report.error);
    assert.ok(report.out.startsWith(inWorkspace('.losscape')), report.out);
    assert.match(report.out, /tiny-2d-landscape-2d-[0-9a-f]{12}\.losscape\.json$/);
    const result = readResult(report.out);
    assert.ok(result && result.complete && result.kind === 'landscape' && result.result.dims === 2);
    assert.equal(result.result.x.length, 21);
    assert.ok(result.result.loss.every((row) => row.every((v) => typeof v === 'number' && Number.isFinite(v))));
    assert.ok(api.enginePid(), 'the engine process runs now');
    const rendered = await waitFor('the panel to draw the landscape', () => api.renders().slice(before).find((r) => r.kind === 'landscape'), 30_000);
    assert.ok(rendered.milliseconds >= 0);
  });

  it('reuses the saved result for the same inputs, and recomputes on request', async () => {
    const first = await run(COMMANDS.plotLandscape2D.id, 'tiny 2D');
    assert.ok(first?.cached, 'same model, data, loss and options → cached');
    const mtime = statSync(first.out).mtimeMs;
    const again = await run(COMMANDS.plotLandscape2D.id, { configuration: 'tiny 2D', recompute: true });
    assert.equal(again?.cached, false);
    assert.equal(again?.out, first.out);
    assert.ok(statSync(first.out).mtimeMs > mtime, 'recompute rewrote the file');
  });

  it('plots 1D and between-checkpoints lines', async () => {
    const one = await run(COMMANDS.plotLandscape1D.id, { configuration: 'tiny 1D', recompute: true });
    assert.equal(one?.complete, true, one?.error);
    const oneResult = readResult(one.out);
    assert.ok(oneResult?.kind === 'landscape' && oneResult.result.dims === 1);
    const line = await run(COMMANDS.plotLandscapeBetweenCheckpoints.id, { configuration: 'tiny between checkpoints', recompute: true });
    assert.equal(line?.complete, true, line?.error);
    const r = readResult(line.out);
    assert.ok(r?.kind === 'landscape' && r.result.dims === 1 && r.result.endpoints, 'a two-model line records its endpoints');
  });

  it('cancels mid-run: the partial result is on disk with complete: false', async () => {
    const pending = run(COMMANDS.plotLandscape2D.id, { configuration: slow, recompute: true });
    const out = await waitFor('the first rows of the slow landscape', () => {
      const dir = inWorkspace('.losscape');
      if (!existsSync(dir)) return undefined;
      const files = readdirSync(dir);
      const f = files.find((n) => n.startsWith('slow-2d-') && n.endsWith('.losscape.json'));
      const r = f ? readResult(inWorkspace('.losscape', f)) : undefined;
      return r && rowsDone(r) >= 1 ? inWorkspace('.losscape', f as string) : undefined;
    });
    const cancelled = await vscode.commands.executeCommand<number>(COMMANDS.cancelAnalysis.id);
    assert.equal(cancelled, 1);
    const report = await pending;
    assert.ok(report);
    assert.equal(report.out, out);
    assert.equal(report.cancelled, true);
    const partial = await waitFor('the partial file', () => {
      const r = readResult(out);
      return r && !r.complete ? r : undefined;
    }, 10_000);
    assert.ok(rowsDone(partial) < 201, `rows done: ${rowsDone(partial)}`);
  });

  it('recovers from an engine crash: a clear error, and the next run works', async () => {
    const api = await activated();
    const pending = run(COMMANDS.plotLandscape2D.id, { configuration: { ...slow, seed: 6 }, recompute: true });
    const pid = await waitFor('the engine to be computing', () => {
      const dir = inWorkspace('.losscape');
      const files = existsSync(dir) ? readdirSync(dir) : [];
      const busy = files.some((n) => {
        const r = n.startsWith('slow-2d-') ? readResult(inWorkspace('.losscape', n)) : undefined;
        return r !== undefined && !r.complete && r.options.seed === 6 && rowsDone(r) >= 1;
      });
      return busy ? api.enginePid() : undefined;
    });
    process.kill(pid, 'SIGKILL');
    const report = await pending;
    assert.ok(report && !report.complete);
    assert.match(report.error ?? '', /engine process killed by SIGKILL/);
    const next = await run(COMMANDS.plotLandscape1D.id, { configuration: 'tiny 1D', recompute: true });
    assert.equal(next?.complete, true, next?.error);
    assert.notEqual(api.enginePid(), pid, 'a fresh engine process');
  });

  it('switches backend: Select Backend restarts the engine on the chosen one', async () => {
    const api = await activated();
    const before = api.enginePid();
    assert.equal(await vscode.commands.executeCommand(COMMANDS.selectBackend.id, 'cpu'), 'cpu');
    try {
      const r = await run(COMMANDS.plotLandscape1D.id, { configuration: 'tiny 1D', recompute: true });
      assert.equal(r?.complete, true, r?.error);
      assert.equal(readResult(r.out)?.backend, 'cpu');
      assert.notEqual(api.enginePid(), before, 'a new engine process for the new backend');
      await waitFor('the status bar backend', () => (api.backend() === 'cpu' ? true : undefined), 10_000);
    } finally {
      await vscode.workspace.getConfiguration('losscape').update('backend', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('runs a CodeLens: a built-in loss, and an exported JS loss (trusted workspace)', async () => {
    const lensesOf = async (file: string): Promise<LensCommandArgs[]> => {
      const uri = vscode.Uri.file(inWorkspace(file));
      await vscode.workspace.openTextDocument(uri);
      const all = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [];
      return all.filter((l) => l.command?.command === LENS_COMMAND).map((l) => l.command?.arguments?.[0] as LensCommandArgs);
    };
    const builtin = (await lensesOf('train.py')).find((a) => a.action === 'landscape' && a.site.library === 'CrossEntropyLoss');
    assert.ok(builtin);
    const r1 = await run(LENS_COMMAND, { ...builtin, configuration: 'tiny 2D' });
    assert.equal(r1?.complete, true, r1?.error);
    const res1 = readResult(r1.out);
    assert.equal(modelProvenance(res1)?.loss.name, 'categorical_crossentropy');
    // PyTorch CrossEntropyLoss takes logits; on this softmax-final model they are the pre-softmax values.
    assert.equal(modelProvenance(res1)?.loss.lens?.semantics, 'logits');

    assert.ok(vscode.workspace.isTrusted, 'the harness opens the workspace trusted');
    const custom = (await lensesOf('src/losses.js')).find((a) => a.action === 'landscape');
    assert.ok(custom && custom.site.exported);
    const r2 = await run(LENS_COMMAND, { ...custom, configuration: 'tiny 2D' });
    assert.equal(r2?.complete, true, r2?.error);
    const moduleLoss = modelProvenance(readResult(r2.out))?.loss;
    assert.equal(moduleLoss?.origin, 'lens', 'the lens chose it (and says which)');
    assert.match(moduleLoss?.name ?? '', /losses\.js#/);
    assert.equal(moduleLoss?.lens?.symbol, custom.site.symbol);

    // A custom Python loss runs on a PyTorch model only: on this TF.js configuration it does not run.
    const python = (await lensesOf('train.py')).find((a) => a.action === 'landscape' && a.site.symbol === 'focal_loss');
    assert.ok(python);
    assert.equal(await run(LENS_COMMAND, { ...python, configuration: 'tiny 2D' }), undefined, 'a Python loss on a TF.js model does not run');
  });

  it('runs the CodeLens above a Python loss on the torch engine (PyTorch model .py + state_dict, losscape.pythonPath): the panel shows it', async function () {
    this.timeout(240_000);
    const api = await activated();
    // The torch venv of scripts/setup-torch.sh, beside the extension under test (it must be there: no skip).
    const python = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, '.tools', 'torch-venv', 'bin', 'python');
    assert.ok(existsSync(python), `${python} is missing: run scripts/setup-torch.sh`);
    const settings = vscode.workspace.getConfiguration('losscape');
    await settings.update('pythonPath', python, vscode.ConfigurationTarget.Workspace);
    try {
      const uri = vscode.Uri.file(inWorkspace('train.py'));
      await vscode.workspace.openTextDocument(uri);
      const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [];
      const focal = lenses.map((l) => l.command).find((c) => c?.command === LENS_COMMAND && c.title === 'Loss landscape' && (c.arguments?.[0] as LensCommandArgs).site.symbol === 'focal_loss');
      assert.ok(focal, 'a Loss landscape lens above def focal_loss');
      // train.py's TinyNet with the fixture's trained weights (a state_dict in .safetensors).
      const torchConfig: RunConfiguration = { name: 'torch 2D', analysis: 'landscape', model: 'train.py:TinyNet', weights: 'models/torch/tiny_net.safetensors', data: 'data/tiny.npz', loss: 'sparse_categorical_crossentropy', points: 5, seed: 1 };
      const before = api.renders().length;
      const report = await run(LENS_COMMAND, { ...(focal.arguments![0] as LensCommandArgs), configuration: torchConfig });
      assert.equal(report?.complete, true, report?.error);
      const result = readResult(report.out);
      assert.ok(result?.kind === 'landscape' && result.complete && result.result.dims === 2);
      assert.equal(result.backend, 'torch');
      assert.equal(result.provenance.backend.name, 'torch');
      const loss = result.provenance.loss;
      assert.equal(loss.origin, 'lens');
      assert.equal(loss.name, 'train.py#focal_loss');
      assert.equal(loss.lens?.symbol, 'focal_loss');
      assert.equal(loss.lens?.configured, 'sparse_categorical_crossentropy', 'the configuration\'s loss it replaced is recorded');
      assert.ok(result.result.loss.flat().every((v) => typeof v === 'number' && Number.isFinite(v)));
      const rendered = await waitFor('the panel to draw the torch landscape', () => api.renders().slice(before).find((r) => r.kind === 'landscape'), 60_000);
      assert.ok(rendered.milliseconds >= 0);
    } finally {
      await settings.update('pythonPath', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});
