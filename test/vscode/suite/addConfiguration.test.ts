import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { COMMANDS } from '../../../src/extension/commands/commandIds';
import { parseRunConfigurations, type RunConfiguration } from '../../../src/extension/config/runConfig';
import { activated, closeAll, inWorkspace } from './helpers';

/**
 * "Add Configuration…" with a PyTorch model, answered in this extension host: the QuickPick and
 * input box of the extension's `vscode.window` are replaced for the test (the suite shares the
 * extension's API object), each answer picked by label from the items the extension offers.
 */
describe('Add Configuration… offers PyTorch templates', () => {
  before(() => activated());
  afterEach(() => closeAll());

  it('a .py module, its nn.Module class, a state_dict, a Python loss: written with model file.py:NAME, weights, lossModule, device, dtype and python', async () => {
    const configFile = inWorkspace('.vscode', 'losscape.json');
    const original = readFileSync(configFile, 'utf8');
    const window = vscode.window as unknown as Record<'showQuickPick' | 'showInputBox', unknown>;
    const real = { pick: window.showQuickPick, input: window.showInputBox };
    const answers = ['Loss landscape (2D)', 'train.py', 'TinyNet', 'models/torch/tiny_net.safetensors', 'data/tiny.npz', '$(file-code) A Python loss in a workspace file…', 'train.py', 'focal_loss'];
    const offered: { title: string; labels: string[] }[] = [];
    window.showQuickPick = async (items: readonly vscode.QuickPickItem[] | Thenable<readonly vscode.QuickPickItem[]>, options?: vscode.QuickPickOptions) => {
      const list = await items;
      const labels = list.map((i) => i.label);
      offered.push({ title: options?.title ?? '', labels });
      const want = answers.shift();
      const item = list.find((i) => i.label === want);
      if (!item) throw new Error(`"${want}" is not offered at "${options?.title}": ${labels.join(' | ')}`);
      return item;
    };
    window.showInputBox = async () => 'torch added';
    const settings = vscode.workspace.getConfiguration('losscape');
    await settings.update('pythonPath', '/opt/venv/bin/python', vscode.ConfigurationTarget.Workspace);
    try {
      const added = await vscode.commands.executeCommand<RunConfiguration | undefined>(COMMANDS.addConfiguration.id);
      const want: RunConfiguration = {
        name: 'torch added',
        analysis: 'landscape',
        model: 'train.py:TinyNet',
        weights: 'models/torch/tiny_net.safetensors',
        data: 'data/tiny.npz',
        lossModule: 'train.py',
        lossExport: 'focal_loss',
        device: 'auto',
        dtype: 'float32',
        python: '/opt/venv/bin/python',
        dims: 2,
        samples: 1024,
      };
      assert.deepEqual(added, want);
      const saved = parseRunConfigurations(readFileSync(configFile, 'utf8'), configFile);
      assert.deepEqual(saved.configurations.find((c) => c.name === 'torch added'), want, 'saved as returned, and valid');
      assert.deepEqual(saved.problems, []);
      assert.deepEqual(answers, [], 'every step was asked');
      const [, models, classes, weights, , losses] = offered;
      assert.ok(models.labels.includes('models/tiny/model.json') && models.labels.includes('train.py'), `models: ${models.labels.join(', ')}`);
      assert.equal(classes.labels[0], 'TinyNet', 'the nn.Module class comes first');
      assert.ok(weights.labels.includes('None'), 'weights may be left to the module');
      assert.ok(!losses.labels.includes("From the model's training config"), 'a PyTorch model has no training config');
      assert.ok(losses.labels.includes('categorical_crossentropy'), losses.labels.join(', '));
    } finally {
      window.showQuickPick = real.pick;
      window.showInputBox = real.input;
      await settings.update('pythonPath', undefined, vscode.ConfigurationTarget.Workspace);
      writeFileSync(configFile, original);
    }
  });
});
