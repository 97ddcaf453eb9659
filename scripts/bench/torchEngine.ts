/**
 * The torch engine beside the wasm engine and the plain-PyTorch baselines, in one run, on the
 * PyTorch demo's MLP (the examples/mnist MLP with the same weights: mlp.py + mlp.pt, and its
 * model.json on wasm) and CNN (net.py:SmallCNN + cnn.pt):
 *
 * - top-5 Hessian eigenvalues + 100-probe Hutchinson trace (`losscape hessian --top 5 --trace`)
 *   against the PyHessian-style baseline (power iteration with deflation + Hutchinson); target
 *   ≤ 0.8× its time;
 * - a 41×41 filter-normalised plane (`losscape landscape`) against the loss-landscape-style
 *   baseline (one set-weights + full-data pass per point); target ≤ 1.0×.
 *
 * Timing, same-process on each side: a baseline is timed inside its Python process once the
 * model and data are loaded; an engine row times the analysis's own phases (Lanczos + trace,
 * or the grid) inside the Node process, which for torch includes every request to the worker
 * and every vector crossing the process boundary; the note adds the whole analysis (loading
 * the model and data into a warm worker, the start-up loss and gradient, writing the result).
 * The worker is started before timing (an editor keeps one warm). Same samples count, batch
 * size 512, threads as printed. Sizes: LOSSCAPE_BENCH_CURVATURE_SAMPLES (1000),
 * LOSSCAPE_BENCH_SAMPLES (256), the first ones of the demo digits on both sides (the baselines
 * write them as .npz files the engine reads whole, so λ₁ and the trace can be compared too), LOSSCAPE_BENCH_POINTS (41), LOSSCAPE_BENCH_TORCH_REPEATS (3: one run here varies by ±10 %; the
 * median is reported), LOSSCAPE_BENCH_TORCH_WASM=0 leaves out the wasm rows,
 * LOSSCAPE_BENCH_TORCH_MODELS=MLP (or CNN) runs one model.
 */
import os from 'node:os';
import path from 'node:path';
import { quietContext } from '../../src/engine/analysisContext';
import { runHessian } from '../../src/engine/analyses/hessian';
import { runLandscape } from '../../src/engine/analyses/landscape';
import { selectBackend } from '../../src/engine/backend';
import { prepareInputs } from '../../src/engine/inputs';
import { setEngineInfo } from '../../src/engine/runtime';
import type { TorchObjective } from '../../src/engine/torch/objective';
import { closeTorchWorkers } from '../../src/engine/torch/worker';
import type { ResultOf } from '../../src/shared/result';
import { DEMO_DATA, DEMO_MODEL } from './landscape';
import { ensurePytorchDemo, pytorchPython, runPytorchBaselines, type PytorchBaselineRow } from './pytorchBaselines';
import { benchTorchBoundary } from './torchBoundary';
import type { Row } from './types';

type HessianResult = ResultOf<'hessian'>;
type LandscapeResult = ResultOf<'landscape'>;

const G = 'examples/pytorch/generated';
const MODELS = [
  { tag: 'demo MLP', model: 'examples/pytorch/mlp.py:MnistMLP', weights: `${G}/mlp.pt`, tfjs: DEMO_MODEL, tfjsData: DEMO_DATA },
  { tag: 'demo CNN', model: 'examples/pytorch/net.py:SmallCNN', weights: `${G}/cnn.pt`, tfjs: null, tfjsData: null },
] as const;

export interface TorchBenchRow extends Row {
  model?: string;
  engine?: 'torch' | 'wasm' | 'pytorch';
  task?: 'top-5 + trace' | 'plane';
  /** Seconds of the analysis's algorithm phases (eigen + trace, or grid): the ratio's numerator. */
  algorithmSeconds?: number;
  /** Seconds of the whole analysis (load, start, algorithm, writing). */
  wholeSeconds?: number;
  baselineSeconds?: number;
  target?: number;
  met?: boolean;
  products?: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const phase = (r: HessianResult | LandscapeResult, names: string[]): number => names.reduce((a, n) => a + (r.provenance.timings.phases[n] ?? 0), 0);

async function timed<T>(f: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t0 = performance.now();
  const value = await f();
  return { seconds: (performance.now() - t0) / 1000, value };
}

export async function benchTorchEngine(): Promise<Row[]> {
  const py = pytorchPython();
  if (!py) return [{ name: 'torch engine and PyTorch baselines: skipped (no Python with torch; run scripts/setup-torch.sh)', seconds: 0 }];
  ensurePytorchDemo(py);
  const env = (k: string, d: number) => Number(process.env[k] ?? d);
  const samples = env('LOSSCAPE_BENCH_CURVATURE_SAMPLES', 1000);
  const planeSamples = env('LOSSCAPE_BENCH_SAMPLES', 256);
  const points = env('LOSSCAPE_BENCH_POINTS', 41);
  const repeats = Math.max(1, env('LOSSCAPE_BENCH_TORCH_REPEATS', 3));
  const withWasm = process.env.LOSSCAPE_BENCH_TORCH_WASM !== '0';
  const batchSize = 512;
  const data = `${G}/digits.npz`;
  const tmp = path.join(os.tmpdir(), `losscape-bench-torch-${process.pid}`);

  const pick = process.env.LOSSCAPE_BENCH_TORCH_MODELS?.split(',').filter(Boolean);
  // Baselines: one Python process per repeat, the median per row.
  const reports = Array.from({ length: repeats }, () => runPytorchBaselines(py, { samples, planeSamples, points, batchSize, models: pick }));
  const report = reports[0];
  const baseline = (name: string): PytorchBaselineRow => {
    const rows = reports.map((r) => r.rows.find((x) => x.name === name)!);
    return { ...rows[0], seconds: median(rows.map((x) => x.seconds)) };
  };
  const tag = `torch ${report.torch}, ${report.threads} threads`;

  setEngineInfo(await selectBackend('wasm'));
  const common = { loss: 'CrossEntropyLoss', batchSize, seed: 0 };
  const torchSpec = (m: (typeof MODELS)[number], file = data) => ({ ...common, engine: 'torch' as const, model: m.model, weights: m.weights, data: file, python: py });
  // Start the worker (importing torch takes seconds) before anything is timed.
  (await prepareInputs({ ...torchSpec(MODELS[0]), samples: 8, out: path.join(tmp, 'warm') })).dispose();

  const rows: TorchBenchRow[] = [
    {
      name: 'torch engine rows: how they are timed',
      seconds: 0,
      note: `same-process: a baseline inside its Python process after loading; an engine row its analysis's algorithm phases (eigen + trace, or grid) in this Node process, worker requests and transfers included (worker warm); median of ${repeats}; ${samples} samples (curvature), ${planeSamples} (plane), batch ${batchSize}`,
    },
  ];
  const ratioRow = (r: TorchBenchRow, base: PytorchBaselineRow, target: number): TorchBenchRow => {
    const ratio = r.algorithmSeconds! / base.seconds;
    return { ...r, seconds: r.algorithmSeconds!, ratio, baselineSeconds: base.seconds, target, met: ratio <= target };
  };
  for (const m of MODELS.filter((x) => !pick || pick.some((w) => x.tag.includes(w)))) {
    // ---- top-5 + trace -----------------------------------------------------------------------
    const pyh = baseline(`PyHessian-style top-5 + trace, ${m.tag}, ${samples} samples`);
    const pyEig = baseline(`PyHessian-style top-5 (power iteration, deflation), ${m.tag}, ${samples} samples`);
    rows.push({ ...pyh, name: `${m.tag}: top-5 + trace, PyHessian-style [${tag}]`, engine: 'pytorch', task: 'top-5 + trace', note: `${pyh.products} products (${pyEig.products} in power iteration); λ₁ = ${pyEig.eigenvalues?.[0]?.toPrecision(5)}` });
    const hessianSpec = { kind: 'hessian' as const, top: 5, trace: true, probes: 100 };
    const torchRuns: { whole: number; r: HessianResult }[] = [];
    for (let i = 0; i < repeats; i++) {
      const t = await timed(() => runHessian({ ...torchSpec(m, report.dataFiles.curvature), ...hessianSpec, out: path.join(tmp, `h-torch-${i}.losscape.json`) }, quietContext()));
      torchRuns.push({ whole: t.seconds, r: t.value });
    }
    const h = torchRuns[0].r;
    const b = h.provenance.backend;
    const eigenProducts = h.result.eigen?.matvecs ?? 0;
    rows.push(
      ratioRow(
        {
          name: `${m.tag}: top-5 + trace, torch engine [${b.version.split(',')[0]}, ${b.device}, ${b.threads} threads]`,
          seconds: 0,
          model: m.tag,
          engine: 'torch',
          task: 'top-5 + trace',
          algorithmSeconds: median(torchRuns.map((x) => phase(x.r, ['eigen', 'trace']))),
          wholeSeconds: median(torchRuns.map((x) => x.whole)),
          products: eigenProducts + 100,
          note: '',
        },
        pyh,
        0.8,
      ),
    );
    const last = rows[rows.length - 1];
    last.note = `× PyHessian-style (target ≤ 0.8×: ${last.met ? 'met' : 'NOT met'}); ${eigenProducts} Lanczos products + 100 probes in blocks; λ₁ = ${h.result.eigenvalues[0].toPrecision(5)}; whole analysis ${last.wholeSeconds!.toFixed(2)} s (${(last.wholeSeconds! / pyh.seconds).toFixed(2)}×)`;
    if (withWasm && m.tfjs) {
      const w = await timed(() => runHessian({ ...common, model: m.tfjs!, data: m.tfjsData!, loss: 'sparse_categorical_crossentropy', ...hessianSpec, samples, out: path.join(tmp, 'h-wasm.losscape.json') }, quietContext()));
      const alg = phase(w.value, ['eigen', 'trace']);
      rows.push({ name: `${m.tag}: top-5 + trace, wasm engine (model.json, same weights)`, seconds: alg, ratio: alg / pyh.seconds, model: m.tag, engine: 'wasm', task: 'top-5 + trace', algorithmSeconds: alg, wholeSeconds: w.seconds, baselineSeconds: pyh.seconds, note: `× PyHessian-style; ${w.value.result.eigen?.matvecs ?? 0} Lanczos products + 100 probes; λ₁ = ${w.value.result.eigenvalues[0].toPrecision(5)}` });
    }

    // ---- the plane ---------------------------------------------------------------------------
    const ll = baseline(`loss-landscape-style ${points}×${points} filter-normalised plane, ${m.tag}, ${planeSamples} samples`);
    rows.push({ ...ll, name: `${m.tag}: ${points}×${points} plane, loss-landscape-style [${tag}]`, engine: 'pytorch', task: 'plane', note: `${(points ** 2 / ll.seconds).toFixed(1)} points/s` });
    const landscapeSpec = { kind: 'landscape' as const, points };
    const planes: { whole: number; r: LandscapeResult }[] = [];
    for (let i = 0; i < repeats; i++) {
      const t = await timed(() => runLandscape({ ...torchSpec(m, report.dataFiles.plane), ...landscapeSpec, out: path.join(tmp, `l-torch-${i}.losscape.json`) }, quietContext()));
      planes.push({ whole: t.seconds, r: t.value });
    }
    const pr = ratioRow(
      { name: `${m.tag}: ${points}×${points} plane, torch engine`, seconds: 0, model: m.tag, engine: 'torch', task: 'plane', algorithmSeconds: median(planes.map((x) => phase(x.r, ['grid']))), wholeSeconds: median(planes.map((x) => x.whole)) },
      ll,
      1.0,
    );
    pr.note = `× loss-landscape-style (target ≤ 1.0×: ${pr.met ? 'met' : 'NOT met'}); ${(points ** 2 / pr.algorithmSeconds!).toFixed(1)} points/s; whole analysis ${pr.wholeSeconds!.toFixed(2)} s`;
    rows.push(pr);
    if (withWasm && m.tfjs) {
      const w = await timed(() => runLandscape({ ...common, model: m.tfjs!, data: m.tfjsData!, loss: 'sparse_categorical_crossentropy', ...landscapeSpec, samples: planeSamples, threads: 1, out: path.join(tmp, 'l-wasm.losscape.json') }, quietContext()));
      const alg = phase(w.value, ['grid']);
      rows.push({ name: `${m.tag}: ${points}×${points} plane, wasm engine (model.json, 1 thread)`, seconds: alg, ratio: alg / ll.seconds, model: m.tag, engine: 'wasm', task: 'plane', algorithmSeconds: alg, wholeSeconds: w.seconds, baselineSeconds: ll.seconds, note: '× loss-landscape-style' });
    }
  }

  // ---- memory --------------------------------------------------------------------------------
  const probe = await prepareInputs({ ...torchSpec(MODELS[1]), samples: 8, out: path.join(tmp, 'stats') });
  const stats = (await (probe.objective as TorchObjective).request('stats')).result as { peakRssBytes: number; cudaPeakBytes?: number };
  probe.dispose();
  closeTorchWorkers();
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  rows.push({
    name: 'peak memory (resident set)',
    seconds: 0,
    note: `torch worker ${mib(stats.peakRssBytes)}${stats.cudaPeakBytes ? ` (CUDA ${mib(stats.cudaPeakBytes)})` : ''}; Node engine process ${mib(process.resourceUsage().maxRSS * 1024)}; baselines process ${mib(report.peakRssBytes)}`,
  });

  // ---- the process boundary (from this process, as an analysis sees it) -----------------------
  rows.push(...(await benchTorchBoundary(py, samples)));
  return rows;
}
