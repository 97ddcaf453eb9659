import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { allRows, fitFromStarts } from '../../../src/engine/scaling/fit';
import { scalingLaw } from '../../../src/engine/scaling/laws';
import { BESIROGLU, chinchillaGrid } from './generate';

const script = path.resolve(__dirname, '../../../scripts/scaling/fit_scipy.py');
// The torch venv that `npm test`'s set-up (scripts/setup-torch.sh) creates carries scipy.
const venv = process.env.LOSSCAPE_TORCH_VENV ?? path.resolve(__dirname, '../../../.tools/torch-venv');
const python = path.join(venv, 'bin', 'python');

/** The same objective, the same starts, minimised by scipy's L-BFGS-B (the papers' tool) and by Losscape's L-BFGS. */
describe('scaling laws: against scipy L-BFGS-B', () => {
  it('reaches the same (or a lower) objective and the same parameters from the same starts', function () {
    const probe = spawnSync(python, ['-c', 'import scipy'], { encoding: 'utf8' });
    assert.equal(probe.status, 0, `${python} has no scipy: run \`bash scripts/setup-torch.sh\` (npm test runs it)`);
    this.timeout(300_000);
    const law = scalingLaw('chinchilla');
    const rows = chinchillaGrid(BESIROGLU, { sizes: 6, tokens: 10, sigma: 0.01, seed: 21 });
    const lr = { x1: Float64Array.from(rows, (r) => Math.log(r.N)), x2: Float64Array.from(rows, (r) => Math.log(r.D)), logLoss: Float64Array.from(rows, (r) => Math.log(r.loss)) };
    const starts = law.grid(true).filter((_, i) => i % 4 === 0);
    const ours = fitFromStarts(law, lr, allRows(rows.length), 1e-3, starts).best;
    // scipy run to convergence: its default stopping rule depends on the release (with scipy
    // 1.17.1 it stopped with an objective 1.8 % higher and E 3.5 % away from the optimum here).
    const job = { rows: rows.map((_, i) => [lr.x1[i], lr.x2[i], lr.logLoss[i]]), starts, delta: 1e-3, converge: true };
    const py = spawnSync(python, [script], { input: JSON.stringify(job), encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.equal(py.status, 0, py.stderr);
    const theirs = JSON.parse(py.stdout) as { objective: number; theta: number[] };
    console.log(`      objective: losscape ${ours.f.toExponential(8)}, scipy ${theirs.objective.toExponential(8)}`);
    assert.ok(ours.f <= theirs.objective * (1 + 1e-6), `ours ${ours.f} vs scipy ${theirs.objective}`);
    const p = law.params(ours.theta);
    const q = law.params(theirs.theta);
    // A and B sit along a flat valley of the objective (scipy stops earlier on its ftol): looser there.
    const tol: Record<string, number> = { E: 1e-3, alpha: 1e-3, beta: 1e-3, A: 1e-2, B: 1e-2 };
    for (const k of law.paramNames) assert.ok(Math.abs(p[k] - q[k]) / Math.abs(q[k]) < tol[k], `${k}: ${p[k]} vs scipy ${q[k]}`);
  });
});
