import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import { LENS_COMMAND } from '../../../src/extension/commands/commandIds';
import { activated, inWorkspace, sleep } from './helpers';

async function lenses(file: string, resolve = 100): Promise<vscode.CodeLens[]> {
  const uri = vscode.Uri.file(inWorkspace(file));
  await vscode.workspace.openTextDocument(uri);
  const all = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, resolve)) ?? [];
  return all.filter((l) => l.command?.command === LENS_COMMAND || l.command === undefined);
}

describe('CodeLens on loss definitions', () => {
  before(() => activated());

  it('shows Loss landscape · Sharpness · Hessian · Compare losses above the losses of a Python file', async () => {
    const found = await lenses('train.py');
    const lines = [...new Set(found.map((l) => l.range.start.line))];
    // focal_loss (def) and nn.CrossEntropyLoss(); not loss_history, not `loss = criterion(…)`.
    assert.equal(lines.length, 2, JSON.stringify(found.map((l) => [l.range.start.line, l.command?.title])));
    // One lens row per definition; the custom Python loss runs on the torch engine like a built-in one.
    const titles = (line: number): (string | undefined)[] => found.filter((l) => l.range.start.line === line).map((l) => l.command?.title);
    assert.deepEqual(titles(lines[0]), ['Loss landscape', 'Sharpness', 'Hessian', 'Compare losses']);
    assert.deepEqual(titles(lines[1]), ['Loss landscape', 'Sharpness', 'Hessian', 'Compare losses']);
  });

  it('finds TF.js losses in TypeScript and JavaScript', async () => {
    const ts = await lenses('src/model.ts');
    assert.equal(new Set(ts.map((l) => l.range.start.line)).size, 2, 'compile({loss}) and the meanSquaredLoss arrow');
    const js = await lenses('src/losses.js');
    assert.equal(new Set(js.map((l) => l.range.start.line)).size, 1);
  });

  it('shows nothing in a file without losses', async () => {
    assert.deepEqual(await lenses('notes.py'), []);
  });

  it('refreshes when the setting changes', async () => {
    const cfg = vscode.workspace.getConfiguration('losscape');
    await cfg.update('codeLens.enabled', false, vscode.ConfigurationTarget.Workspace);
    try {
      await sleep(300);
      assert.deepEqual(await lenses('train.py'), []);
    } finally {
      await cfg.update('codeLens.enabled', undefined, vscode.ConfigurationTarget.Workspace);
    }
    await sleep(300);
    assert.ok((await lenses('train.py')).length > 0);
  });
});
