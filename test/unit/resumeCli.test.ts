import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseResult, type ResultOf } from '../../src/shared/result';
import { computedPoints } from '../../src/shared/resume';
import { makeTwinWorkspace, NETS_PY, torchPython, writeTwinData, type TwinKind, type TwinWorkspace } from './helpers/torchTwins';
import { cmdline, descendants } from './helpers/processWatch';

/**
 * `losscape landscape --resume` end to end: a run stopped by Ctrl-C (SIGINT to its process
 * group: exit 130, the partial kept) is resumed, and the completed grid equals an uninterrupted
 * run's with the same seed — on an MLP and a small CNN, on the TF.js and the torch engine.
 * Evaluations are counted by the engine in the result (`result.resume`), and the partial's
 * points are checked to be exactly those kept. A test preload (helpers/faultInjection.cjs,
 * pace-json) pauses after each result write so that the stop lands part way through the grid.
 * Then the refusals, each one line and exit 2.
 */
const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin', 'losscape.js');
const preload = path.join(__dirname, 'helpers', 'faultInjection.cjs');
const LOSS = 'sparse_categorical_crossentropy';
const POINTS = 7;
type Landscape = ResultOf<'landscape'>;

const env = { ...process.env, LOSSCAPE_BACKEND: 'wasm' };

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function read(file: string): Landscape {
  const r = parseResult(JSON.parse(readFileSync(file, 'utf8')), file);
  assert.equal(r.kind, 'landscape');
  return r as Landscape;
}

function tryRead(file: string): Landscape | null {
  try {
    return read(file);
  } catch {
    return null;
  }
}

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${stderr}`);
  assert.ok(!/\n\s+at /.test(stderr), `stack trace:\n${stderr}`);
  return lines[0];
}

/** Starts `args` in its own process group, waits for a partial with ≥ 2 rows, sends Ctrl-C to the group. */
async function interrupted(args: string[], out: string): Promise<Landscape> {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...env, NODE_OPTIONS: `--require ${preload}`, LOSSCAPE_TEST_FAULT: 'pace-json' }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const t0 = Date.now();
  for (;;) {
    const r = tryRead(out);
    if (r && !r.complete && r.result.dims === 2 && r.result.rowsDone >= 2) break;
    if (Date.now() - t0 > 120_000) throw new Error(`no partial result in ${out}: ${stderr}`);
    await new Promise((res) => setTimeout(res, 20));
  }
  process.kill(-child.pid!, 'SIGINT');
  const code = await closed;
  assert.equal(code, 130, stderr);
  assert.match(oneLine(stderr), /cancelled; the partial result is in/);
  const partial = read(out);
  assert.equal(partial.complete, false);
  assert.match(partial.status ?? '', /^cancelled after \d+ of 49 points$/);
  return partial;
}

describe('--resume: a landscape stopped by Ctrl-C, resumed, equals an uninterrupted run', function () {
  this.timeout(600_000);
  let dir: string;
  let python: string;
  const ws: Partial<Record<TwinKind, TwinWorkspace>> = {};
  before(async () => {
    assert.ok(existsSync(path.join(root, 'dist', 'engine.js')), 'dist/engine.js is missing: run npm run build');
    python = torchPython();
    // The twins' TF.js models are built in this process (mocha may have registered wasm first).
    await tf.setBackend('cpu');
    dir = mkdtempSync(path.join(os.tmpdir(), 'losscape-resume-'));
    for (const kind of ['mlp', 'cnn'] as TwinKind[]) ws[kind] = await makeTwinWorkspace(dir, kind);
  });

  const inputs = (kind: TwinKind, engine: 'tfjs' | 'torch'): string[] => {
    const w = ws[kind]!;
    return engine === 'tfjs' ? ['--model', w.tfjs[0], '--data', w.tfjsData] : ['--model', w.torchModel, '--weights', w.torch[0], '--data', w.torchData, '--python', python];
  };
  const grid = ['--loss', LOSS, '--points', String(POINTS), '--seed', '5', '--batch-size', '16'];

  for (const kind of ['mlp', 'cnn'] as TwinKind[]) {
    for (const engine of ['tfjs', 'torch'] as const) {
      // TF.js resumes in place (no --out), torch into another file.
      const inPlace = engine === 'tfjs';
      it(`${kind.toUpperCase()} on ${engine}${inPlace ? ' (resumed in place)' : ' (resumed into --out)'}: every kept point kept, the others evaluated once`, async () => {
        const tag = `${kind}-${engine}`;
        const refOut = path.join(dir, `${tag}-ref.losscape.json`);
        const r = cli(['landscape', ...inputs(kind, engine), ...grid, '--out', refOut]);
        assert.equal(r.status, 0, r.stderr);
        const ref = read(refOut);
        assert.equal(ref.backend, engine === 'torch' ? 'torch' : 'wasm');
        assert.equal(ref.result.resume, undefined);

        const partialOut = path.join(dir, `${tag}.losscape.json`);
        const partial = await interrupted(['landscape', ...inputs(kind, engine), ...grid, '--out', partialOut], partialOut);
        const keptMask = computedPoints(partial.result);
        const kept = keptMask.filter(Boolean).length;
        assert.ok(kept >= 2 * POINTS && kept < POINTS * POINTS, `kept ${kept} points`);
        const partialJson = readFileSync(partialOut, 'utf8');

        const doneOut = inPlace ? partialOut : path.join(dir, `${tag}-done.losscape.json`);
        // Only --resume (and --out): model, data, loss, grid, seed and interpreter come from the file.
        const resumed = cli(['landscape', '--resume', partialOut, ...(inPlace ? [] : ['--out', doneOut])]);
        assert.equal(resumed.status, 0, resumed.stderr);
        assert.match(resumed.stdout, new RegExp(`wrote ${doneOut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
        const done = read(doneOut);
        assert.equal(done.complete, true);
        assert.deepEqual(done.result.resume, { from: partialOut, pointsKept: kept, pointsEvaluated: POINTS * POINTS - kept });
        // The kept points are the partial's, bit for bit; the grid is the uninterrupted run's.
        const flat = (l: Landscape) => (l.result.dims === 2 ? l.result.loss.flat() : []);
        const partialFlat = flat(partial);
        flat(done).forEach((v, i) => keptMask[i] && assert.equal(v, partialFlat[i], `kept point ${i}`));
        assert.deepEqual(flat(done), flat(ref));
        assert.deepEqual(done.result.accuracy, ref.result.accuracy);
        assert.equal(done.result.centerLoss, ref.result.centerLoss);
        assert.deepEqual(done.result.directions.norms, ref.result.directions.norms);
        assert.deepEqual({ ...done.options }, { ...ref.options });
        assert.equal(done.provenance.model.sha256, ref.provenance.model.sha256);
        if (!inPlace) assert.equal(readFileSync(partialOut, 'utf8'), partialJson, 'the partial changed');
      });
    }
  }

  it('torch.distributed: a rank killed mid-landscape leaves a partial; --resume completes it, equal to an uninterrupted 2-rank run', async () => {
    const w = ws.cnn!;
    // The twins' CNN, slower per batch: rows long enough for a rank to be killed part way.
    const slow = path.join(w.dir, 'slow_nets.py');
    writeFileSync(slow, `${NETS_PY}\n\nimport time\n\n\nclass SlowCNN(CNN):\n    def forward(self, x):\n        time.sleep(0.02)\n        return super().forward(x)\n`);
    const args = (out: string): string[] => ['landscape', '--model', `${slow}:SlowCNN`, '--weights', w.torch[0], '--data', w.torchData, '--python', python, '--dtype', 'float64', ...grid, '--workers', '2', '--dist-timeout', '20', '--out', out];
    const refOut = path.join(dir, 'ranks-ref.losscape.json');
    const r = cli(args(refOut));
    assert.equal(r.status, 0, r.stderr);
    const ref = read(refOut);
    assert.deepEqual(ref.provenance.parallel && { ranks: ref.provenance.parallel.ranks, mode: ref.provenance.parallel.mode }, { ranks: 2, mode: 'points' });

    const out = path.join(dir, 'ranks.losscape.json');
    const child = spawn(process.execPath, [bin, ...args(out)], { env: { ...env, NODE_OPTIONS: `--require ${preload}`, LOSSCAPE_TEST_FAULT: 'pace-json' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const t0 = Date.now();
    for (;;) {
      const p = tryRead(out);
      if (p && !p.complete && p.result.dims === 2 && p.result.rowsDone >= 2) break;
      assert.ok(Date.now() - t0 < 180_000, `no rows after 180 s: ${stderr}`);
      await new Promise((res) => setTimeout(res, 20));
    }
    const rank1 = descendants(child.pid!).find((pid) => /losscape_torch.*--local-rank\u00001/.test(cmdline(pid)));
    assert.ok(rank1, 'rank 1 is a descendant of the CLI');
    process.kill(rank1, 'SIGKILL');
    assert.equal(await closed, 1, stderr);
    assert.match(stderr.trim().split('\n').at(-1)!, /rank 1 of 2 .*was killed by SIGKILL/);
    const partial = read(out);
    assert.equal(partial.complete, false);
    const keptMask = computedPoints(partial.result);
    const kept = keptMask.filter(Boolean).length;
    assert.ok(kept >= 2 * POINTS && kept < POINTS * POINTS, `kept ${kept}`);

    const doneOut = path.join(dir, 'ranks-done.losscape.json');
    const resumed = cli(['landscape', '--resume', out, '--out', doneOut]);
    assert.equal(resumed.status, 0, resumed.stderr);
    const done = read(doneOut);
    assert.equal(done.complete, true);
    assert.deepEqual(done.result.resume, { from: out, pointsKept: kept, pointsEvaluated: POINTS * POINTS - kept });
    assert.equal(done.provenance.parallel?.ranks, 2, 'the resumed run used the recorded --workers 2');
    const flat = (l: Landscape) => (l.result.dims === 2 ? l.result.loss.flat() : []);
    const partialFlat = flat(partial);
    flat(done).forEach((v, i) => keptMask[i] && assert.equal(v, partialFlat[i], `kept point ${i}`));
    assert.deepEqual(flat(done), flat(ref));
  });

  describe('refusals: one line, exit 2', () => {
    /** A partial made from a complete result: its last `rows` rows taken out. */
    function partialOf(completeFile: string, out: string, rows = 2): void {
      const r = JSON.parse(readFileSync(completeFile, 'utf8'));
      r.complete = false;
      r.status = 'cancelled after 35 of 49 points';
      for (let k = POINTS - rows; k < POINTS; k++) {
        r.result.loss[k] = r.result.loss[k].map(() => null);
        if (r.result.accuracy) r.result.accuracy[k] = r.result.accuracy[k].map(() => null);
      }
      r.result.rowsDone = POINTS - rows;
      writeFileSync(out, JSON.stringify(r));
    }

    it('a flag given again that disagrees names the flag; one that agrees is accepted', () => {
      const refOut = path.join(dir, 'mlp-tfjs-ref.losscape.json');
      const p = path.join(dir, 'flags.losscape.json');
      partialOf(refOut, p);
      const bad = cli(['landscape', '--resume', p, '--points', '9', '--out', path.join(dir, 'x.losscape.json')]);
      assert.equal(bad.status, 2, bad.stderr);
      assert.match(oneLine(bad.stderr), /^losscape landscape: --points: 9 disagrees with flags\.losscape\.json, which was computed with points 7/);
      const seed = cli(['landscape', '--resume', p, '--seed', '6', '--out', path.join(dir, 'x.losscape.json')]);
      assert.equal(seed.status, 2);
      assert.match(oneLine(seed.stderr), /--seed: 6 disagrees/);
      const norm = cli(['landscape', '--resume', p, '--norm', 'layer', '--out', path.join(dir, 'x.losscape.json')]);
      assert.match(oneLine(norm.stderr), /--norm: layer disagrees .* norm filter/);
      const same = cli(['landscape', '--resume', p, '--points', '7', '--seed', '5', '--model', ws.mlp!.tfjs[0], '--threads', '1', '--out', path.join(dir, 'flags-done.losscape.json')]);
      assert.equal(same.status, 0, same.stderr);
      const done = read(path.join(dir, 'flags-done.losscape.json'));
      assert.equal(done.result.resume?.pointsEvaluated, 2 * POINTS);
      assert.deepEqual(done.result.loss, read(refOut).result.loss);
    });

    // These two change the workspace's files, so they come after every test that reads them.
    it('data that changed since the partial (SHA-256) is refused', () => {
      const w = ws.mlp!;
      const p = path.join(dir, 'changing.losscape.json');
      partialOf(path.join(dir, 'mlp-tfjs-ref.losscape.json'), p);
      const other = writeTwinData(mkdtempSync(path.join(dir, 'other-')), 'mlp', 36, 12, 99);
      copyFileSync(other.tfjsData, w.tfjsData);
      const r = cli(['landscape', '--resume', p]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(oneLine(r.stderr), new RegExp(`${path.basename(w.tfjsData)}: is not the data changing\\.losscape\\.json was computed from \\(SHA-256 [0-9a-f]{12}… now, [0-9a-f]{12}… then\\); refusing to resume`));
      assert.equal(read(p).complete, false, 'the partial was overwritten');
    });

    it('torch: weights that changed since the partial (the model’s SHA-256) are refused', () => {
      const w = ws.mlp!;
      const p = path.join(dir, 'changing-torch.losscape.json');
      partialOf(path.join(dir, 'mlp-torch-ref.losscape.json'), p);
      copyFileSync(w.torch[1], w.torch[0]);
      const r = cli(['landscape', '--resume', p]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(oneLine(r.stderr), /nets\.py:MLP: is not the model changing-torch\.losscape\.json was computed from \(SHA-256 .*\); refusing to resume/);
    });

    it('a complete result, a missing sidecar, a missing file, another kind of result', () => {
      const refOut = path.join(dir, 'mlp-tfjs-ref.losscape.json');
      const complete = cli(['landscape', '--resume', refOut, '--out', path.join(dir, 'y.losscape.json')]);
      assert.equal(complete.status, 2);
      assert.match(oneLine(complete.stderr), /is complete \(all 49 points computed\); there is nothing to resume/);

      const p = path.join(dir, 'nosidecar.losscape.json');
      partialOf(refOut, p);
      const r = JSON.parse(readFileSync(p, 'utf8'));
      const side = path.join(dir, 'nosidecar.losscape.0123456789ab.bin');
      copyFileSync(path.join(dir, r.result.directions.center.file), side);
      r.result.directions.center.file = path.basename(side);
      r.result.directions.vectors.forEach((v: { file: string }) => (v.file = path.basename(side)));
      writeFileSync(p, JSON.stringify(r));
      rmSync(side);
      const missing = cli(['landscape', '--resume', p]);
      assert.equal(missing.status, 2);
      assert.match(oneLine(missing.stderr), /nosidecar\.losscape\.0123456789ab\.bin: is missing: the centre and directions of nosidecar\.losscape\.json live there/);

      const none = cli(['landscape', '--resume', path.join(dir, 'absent.losscape.json')]);
      assert.equal(none.status, 2);
      assert.match(oneLine(none.stderr), /absent\.losscape\.json: does not exist/);

      const t = cli(['trajectory', '--resume', p]);
      assert.equal(t.status, 2);
      assert.match(oneLine(t.stderr), /was written by losscape landscape; resume it with losscape landscape --resume/);
    });
  });
});
