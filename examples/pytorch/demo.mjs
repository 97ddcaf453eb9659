// The PyTorch part of `npm run demo`: trains the small CNN of net.py on the MNIST digits
// (train.py, checkpoints per epoch), then runs the main analyses on it through the CLI with
// the torch engine, and writes examples/pytorch/generated/report.html. Without a Python that
// has torch it says so plainly and exits 0 (the TF.js demo does not depend on it).
//
//   node examples/pytorch/demo.mjs        (LOSSCAPE_PYTHON picks the interpreter)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const E = 'examples/pytorch';
const G = `${E}/generated`;
const cli = path.resolve('bin/losscape.js');

function findPython() {
  const candidates = [process.env.LOSSCAPE_PYTHON, '.tools/torch-venv/bin/python', 'python3'].filter(Boolean);
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { py, version: r.stdout.trim() };
  }
  return { py: null, tried: candidates };
}

const found = findPython();
if (!found.py) {
  console.log(`\nPyTorch demo skipped: no Python with torch found (tried ${found.tried.join(', ')}).`);
  console.log('  Install one with scripts/setup-torch.sh (torch into .tools/torch-venv), or point LOSSCAPE_PYTHON at a Python that has torch.');
  process.exit(0);
}
const py = found.py;
const help = spawnSync(process.execPath, [cli, 'landscape', '--help'], { encoding: 'utf8' });
if (!/--engine/.test(help.stdout ?? '')) {
  console.log(`\nPyTorch demo skipped: this build of the CLI has no --engine option (torch found: ${py}, torch ${found.version}).`);
  process.exit(0);
}

function step(title, cmd, args) {
  const s = Date.now();
  console.log(`\n▶ ${title}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, LOSSCAPE_PROGRESS: '1' } });
  if (r.status !== 0) {
    console.error(`demo (PyTorch): '${title}' failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
  console.log(`  (${((Date.now() - s) / 1000).toFixed(1)} s)`);
}
const losscape = (title, args) => step(title, process.execPath, [cli, ...args, '--engine', 'torch', '--python', py]);

console.log(`\nPyTorch demo with ${py} (torch ${found.version})`);
if (!existsSync('examples/mnist/generated/data.npz')) step('MNIST digits (examples/mnist/prepare.ts)', 'npx', ['tsx', 'examples/mnist/prepare.ts']);
step('PyTorch demo model: SmallCNN on the same digits, checkpoints per epoch', py, [`${E}/train.py`]);

const model = ['--model', `${E}/net.py:SmallCNN`, '--weights', `${G}/cnn.pt`];
const data = ['--data', `${G}/digits.npz`, '--loss', 'CrossEntropyLoss'];
const results = [];
const out = (name) => {
  const f = `${G}/${name}.losscape.json`;
  results.push(f);
  return f;
};

losscape('Hessian of the CNN: top-5 eigenvalues and Hutchinson trace, 500 samples (exact double-backward products)', ['hessian', ...model, ...data, '--samples', '500', '--top', '5', '--trace', '--out', out('hessian')]);
losscape('2D loss landscape of the CNN, 21×21, filter-normalised, 256 samples', ['landscape', ...model, ...data, '--samples', '256', '--points', '21', '--out', out('landscape-2d')]);
losscape('1D landscape with the custom focal loss of focal_loss.py', ['landscape', ...model, '--data', `${G}/digits.npz`, '--loss-module', `${E}/focal_loss.py:FocalLoss`, '--dims', '1', '--samples', '256', '--out', out('landscape-focal')]);
losscape('the same MLP as examples/mnist, in PyTorch (mlp.py + its TF.js weights): top-5 of the GGN', ['hessian', '--model', `${E}/mlp.py:MnistMLP`, '--weights', `${G}/mlp.pt`, ...data, '--samples', '500', '--top', '5', '--operator', 'ggn', '--out', out('mlp-ggn')]);
losscape('grokking statistics over the CNN checkpoints (NTK on 32 probe samples)', ['grokking', '--model', `${E}/net.py:SmallCNN`, '--checkpoints', `${G}/checkpoints`, ...data, '--probe', '32', '--out', out('grokking')]);
losscape('training trajectory of the CNN on the PCA plane', ['trajectory', '--model', `${E}/net.py:SmallCNN`, '--checkpoints', `${G}/checkpoints`, ...data, '--samples', '256', '--out', out('trajectory')]);
step('HTML report (PyTorch)', process.execPath, [cli, 'report', ...results, '--title', 'Losscape demo: PyTorch CNN', '--out', `${G}/report.html`]);
console.log(`\nPyTorch report: ${path.resolve(G, 'report.html')}`);
