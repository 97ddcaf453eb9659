import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { COMMANDS, RESULT_VIEW_TYPE } from '../../../src/extension/commands/commandIds';
import { activated, closeAll, inWorkspace, sleep, waitFor } from './helpers';

function activeCustomTab(): vscode.TabInputCustom | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return input instanceof vscode.TabInputCustom ? input : undefined;
}

describe('result files (*.losscape.json) open in their panel', () => {
  before(() => activated());
  afterEach(() => closeAll());

  it('opens a result with the Losscape editor, which draws it', async () => {
    const api = await activated();
    const before = api.renders().length;
    const uri = vscode.Uri.file(inWorkspace('results', 'sample.losscape.json'));
    assert.ok(await vscode.commands.executeCommand(COMMANDS.openResult.id, uri));
    const tab = await waitFor('the custom editor tab', () => activeCustomTab(), 10_000);
    assert.equal(tab.viewType, RESULT_VIEW_TYPE);
    assert.equal(tab.uri.fsPath, uri.fsPath);
    await waitFor('the result to be drawn', () => api.renders().slice(before).find((r) => r.kind === 'landscape'), 30_000);
  });

  it('is the default editor of *.losscape.json', async () => {
    await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(inWorkspace('results', 'sample.losscape.json')));
    const tab = await waitFor('the custom editor tab', () => activeCustomTab(), 10_000);
    assert.equal(tab.viewType, RESULT_VIEW_TYPE);
  });

  it('opens an invalid file without drawing anything', async () => {
    const api = await activated();
    const bad = inWorkspace('results', 'broken.losscape.json');
    writeFileSync(bad, JSON.stringify({ schema: 'losscape/1', kind: 'landscape', complete: 'yes' }));
    const before = api.renders().length;
    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(bad), RESULT_VIEW_TYPE);
    await waitFor('the custom editor tab', () => activeCustomTab(), 10_000);
    await sleep(1500);
    assert.equal(api.renders().length, before, 'nothing is drawn for an invalid result');
  });
});
