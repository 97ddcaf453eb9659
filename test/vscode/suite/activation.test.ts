import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { COMMANDS, LENS_COMMAND } from '../../../src/extension/commands/commandIds';
import { activated, EXTENSION_ID, inWorkspace, waitFor } from './helpers';

describe('activation and contributions', () => {
  it('activates without loading TensorFlow.js or starting the engine', async () => {
    const api = await activated();
    assert.ok(api.activationMs < 500, `activate() took ${api.activationMs} ms`);
    assert.equal(api.enginePid(), undefined, 'the engine starts on the first analysis, not at activation');
    const loaded = Object.keys(require.cache).filter((k) => k.includes('@tensorflow'));
    assert.deepEqual(loaded, [], 'TensorFlow.js modules are loaded in the extension host');
  });

  it('registers every command', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    for (const { id } of Object.values(COMMANDS)) assert.ok(all.has(id), id);
    assert.ok(all.has(LENS_COMMAND));
  });

  it('contributes the run-configuration schema, and VS Code validates losscape.json with it', async () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON as { contributes: { jsonValidation: { fileMatch: string }[] } };
    assert.ok(pkg.contributes.jsonValidation.some((j) => j.fileMatch === '.vscode/losscape.json'));
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(inWorkspace('.vscode', 'losscape.json')));
    await vscode.window.showTextDocument(doc);
    assert.equal(doc.languageId, 'jsonc', 'losscape.json is JSON with comments, like launch.json');
    const original = doc.getText();
    const whole = (): vscode.Range => new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length));
    const edit = new vscode.WorkspaceEdit();
    // An unknown field, and a field of another analysis (a Hessian's "top" in a sharpness configuration).
    const broken = original.replace('"points": 21', '"pointz": "many"').replace('"averageSamples": 5', '"averageSamples": 5, "top": 3');
    assert.notEqual(broken, original.replace('"points": 21', '"pointz": "many"'), 'the fixture has the sharpness configuration');
    edit.replace(doc.uri, whole(), broken);
    assert.ok(await vscode.workspace.applyEdit(edit));
    try {
      const diags = await waitFor('a schema diagnostic on "pointz"', () => {
        const d = vscode.languages.getDiagnostics(doc.uri).filter((x) => /pointz|not allowed/i.test(x.message));
        return d.length ? d : undefined;
      }, 30_000);
      assert.ok(diags.length > 0);
      const lines = doc.getText().split('\n');
      const topLine = lines.findIndex((l) => l.includes('"top": 3'));
      const pointzLine = lines.findIndex((l) => l.includes('"pointz"'));
      await waitFor('a schema diagnostic on the sharpness configuration\'s "top"', () => {
        const d = vscode.languages.getDiagnostics(doc.uri).filter((x) => x.range.start.line === topLine);
        return d.length ? d : undefined;
      }, 30_000);
      // Nothing else: comments, trailing commas and the fixture's configurations of every analysis are accepted.
      const elsewhere = vscode.languages.getDiagnostics(doc.uri).filter((x) => x.range.start.line !== topLine && x.range.start.line !== pointzLine);
      assert.deepEqual(elsewhere.map((x) => `${x.range.start.line + 1}: ${x.message}`), []);
    } finally {
      // Put the text back and save it, so that the file on disk is the original whatever editor is active.
      const undo = new vscode.WorkspaceEdit();
      undo.replace(doc.uri, whole(), original);
      await vscode.workspace.applyEdit(undo);
      await doc.save();
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
    assert.equal(readFileSync(doc.uri.fsPath, 'utf8'), original);
  });
});
