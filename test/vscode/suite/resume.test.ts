import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { AnalysisReport } from '../../../src/extension/analysis/analysisRunner';
import { COMMANDS, RESULT_VIEW_TYPE } from '../../../src/extension/commands/commandIds';
import { activated, closeAll, inWorkspace, readResult, waitFor } from './helpers';

/**
 * "Resume Landscape" from the result editor of a partial result, and results computed
 * elsewhere (several ranks: provenance.parallel) opening like any other.
 */
describe('partial and cluster results in the result editor', () => {
  before(() => activated());
  afterEach(() => closeAll());

  it('Resume Landscape on an open partial result completes it in place: the finished points kept, the grid the uninterrupted one', async () => {
    const full = await vscode.commands.executeCommand<AnalysisReport>(COMMANDS.plotLandscape2D.id, { configuration: 'tiny 2D explicit', recompute: true });
    assert.equal(full?.complete, true, full?.error);
    const complete = readResult(full.out);
    assert.ok(complete?.kind === 'landscape' && complete.result.dims === 2);
    // The partial a cancelled run leaves: its last 4 of 11 rows not computed (the sidecar stays beside it).
    const json = JSON.parse(readFileSync(full.out, 'utf8'));
    json.complete = false;
    json.status = 'cancelled after 77 of 121 points';
    for (let r = 7; r < 11; r++) json.result.loss[r] = json.result.loss[r].map(() => null);
    json.result.accuracy = json.result.accuracy && json.result.accuracy.map((row: unknown[], r: number) => (r < 7 ? row : row.map(() => null)));
    json.result.rowsDone = 7;
    const partial = full.out.replace(/\.losscape\.json$/, '-partial.losscape.json');
    writeFileSync(partial, JSON.stringify(json));

    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(partial), RESULT_VIEW_TYPE);
    await waitFor('the result editor of the partial', () => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      return input instanceof vscode.TabInputCustom && input.uri.fsPath === partial ? true : undefined;
    }, 10_000);
    // No argument: the active result editor's file (the editor title button does this).
    const report = await vscode.commands.executeCommand<AnalysisReport>(COMMANDS.resumeLandscape.id);
    assert.equal(report?.complete, true, report?.error);
    assert.equal(report.out, partial);
    const done = readResult(partial);
    assert.ok(done?.kind === 'landscape' && done.complete && done.result.dims === 2);
    assert.deepEqual(done.result.resume, { from: partial, pointsKept: 77, pointsEvaluated: 44 });
    assert.deepEqual(done.result.loss, complete.result.loss);

    // A complete result has nothing to resume: a message, no run.
    assert.equal(await vscode.commands.executeCommand(COMMANDS.resumeLandscape.id, vscode.Uri.file(partial)), undefined);
  });

  it('a result computed on several ranks (provenance.parallel) opens and draws like any other', async () => {
    const api = await activated();
    const r = JSON.parse(readFileSync(inWorkspace('results', 'sample.losscape.json'), 'utf8'));
    r.backend = 'torch';
    r.provenance.backend = { name: 'torch', version: 'torch 2.13.0+cpu, python 3.11', device: 'cpu', dtype: 'float64', threads: 1 };
    r.provenance.parallel = { ranks: 4, mode: 'points', threadsPerRank: 1 };
    const file = inWorkspace('results', 'cluster.losscape.json');
    writeFileSync(file, JSON.stringify(r));
    // renders() keeps the last 100 records: new ones are those after the last one seen now.
    const last = api.renders().at(-1);
    const since = () => api.renders().slice(last ? api.renders().lastIndexOf(last) + 1 : 0);
    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(file), RESULT_VIEW_TYPE);
    await waitFor('the cluster result to be drawn', () => since().find((x) => x.kind === 'landscape'), 30_000);
  });
});
