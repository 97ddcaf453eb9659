// `npm run demo`: trains (or reuses) the MNIST demo model with its checkpoints, runs the main
// analyses on it through the CLI (each in the background engine process), and writes one
// HTML report. Everything lands in examples/mnist/generated/.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const G = 'examples/mnist/generated';
const cli = path.resolve('bin/losscape.js');
const t0 = Date.now();

function step(title, cmd, args) {
  const s = Date.now();
  console.log(`\n▶ ${title}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, LOSSCAPE_PROGRESS: '1' } });
  if (r.status !== 0) {
    console.error(`demo: '${title}' failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
  console.log(`  (${((Date.now() - s) / 1000).toFixed(1)} s)`);
}
const losscape = (title, args) => step(title, process.execPath, [cli, ...args]);

step('demo model: MNIST MLP 784-32-10, 6 epochs, checkpoints per epoch', 'npx', ['tsx', 'examples/mnist/prepare.ts']);

const model = `${G}/model/model.json`;
const data = `${G}/data.npz`;
const common = ['--model', model, '--data', data, '--loss', 'sparse_categorical_crossentropy'];
const results = [];
const out = (name) => {
  const f = `${G}/${name}.losscape.json`;
  results.push(f);
  return f;
};

losscape('2D loss landscape, 41×41 on [-1,1]², filter-normalised directions, 2,000 samples', ['landscape', ...common, '--samples', '2000', '--out', out('landscape-2d')]);
losscape('1D loss landscape, 51 points', ['landscape', ...common, '--dims', '1', '--out', out('landscape-1d')]);
const first = `${G}/checkpoints/step-000000/model.json`;
if (existsSync(first)) {
  losscape('the line from the initial checkpoint to the trained model', ['landscape', '--model', first, '--to', model, '--data', data, '--loss', 'sparse_categorical_crossentropy', '--samples', '2000', '--out', out('line-init-to-final')]);
}

losscape('Hessian: top-5 eigenvalues (Lanczos) and Hutchinson trace, 1,000 samples', ['hessian', ...common, '--samples', '1000', '--top', '5', '--trace', '--out', out('hessian')]);
losscape('Sharpness: SAM, ASAM, Keskar and average case, 1,000 samples', ['sharpness', ...common, '--samples', '1000', '--out', out('sharpness')]);

// The papers' losses (issue 11): copies of the MLP trained from the same initial weights under
// generalised cross-entropy and a comp-sum loss, then each model (the cross-entropy one too)
// measured under all three losses along the same directions.
const compared = 'ce,gce:q=0.7,comp_sum:tau=0.5';
step('copies of the MLP trained under gce (q = 0.7) and comp_sum (τ = 0.5), 3 epochs each', 'npx', ['tsx', 'examples/mnist/trainUnderLosses.ts', 'gce:q=0.7', 'comp_sum:tau=0.5']);
const comparison = ['--data', data, '--losses', compared, '--samples', '300', '--points1d', '15', '--points2d', '11', '--probes', '12'];
losscape('loss comparison of the cross-entropy-trained MLP under ce, gce, comp_sum (300 samples)', ['compare-losses', '--model', model, ...comparison, '--out', out('compare-losses-ce')]);
for (const [dir, slug] of [['gce_q-0.7', 'gce'], ['comp_sum_tau-0.5', 'comp-sum']]) {
  losscape(`loss comparison of the MLP trained under ${slug}`, ['compare-losses', '--model', `${G}/trained/${dir}/model.json`, ...comparison, '--out', out(`compare-losses-trained-${slug}`)]);
}

const ck = `${G}/checkpoints`;
losscape('grokking statistics over the 7 checkpoints (NTK on 128 probe samples, λ_max of the GGN)', ['grokking', '--checkpoints', ck, '--data', data, '--loss', 'sparse_categorical_crossentropy', '--probe', '128', '--train-loss-below', '0.3', '--test-loss-below', '0.3', '--train-accuracy-above', '0.93', '--test-accuracy-above', '0.93', '--sharpness', 'ggn', '--out', out('grokking')]);
losscape('training trajectory on the PCA plane of θ_t − θ_final, 2,000 samples', ['trajectory', '--checkpoints', ck, '--data', data, '--loss', 'sparse_categorical_crossentropy', '--samples', '2000', '--out', out('trajectory')]);

// The seed paper's model (Kumar et al. 2023): a sweep over the output scale α, with checkpoints.
const SG = 'examples/grokking/generated';
step('seed-paper grokking model: full-batch GD for 5 values of α, checkpoints, statistics', 'npx', ['tsx', 'examples/grokking/run.ts']);
for (const f of [`${SG}/grokking.losscape.json`, `${SG}/trajectory.losscape.json`]) if (existsSync(f)) results.push(f);

// The PyTorch demo (examples/pytorch): its own report; says plainly when torch is missing.
step('PyTorch demo: a CNN from a .py file with the torch engine', process.execPath, ['examples/pytorch/demo.mjs']);

losscape('HTML report', ['report', ...results, '--title', 'Losscape demo: MNIST MLP', '--out', `${G}/report.html`]);
console.log(`\nDemo finished in ${((Date.now() - t0) / 1000).toFixed(0)} s.`);
console.log(`Report: ${path.resolve(G, 'report.html')}`);
console.log(`Results: ${results.map((f) => path.resolve(f)).join(', ')}`);
