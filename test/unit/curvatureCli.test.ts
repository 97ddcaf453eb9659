import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseResult } from '../../src/shared/result';
import { makeTinyWorkspace, type TinyWorkspace } from './helpers/tinyModel';

/** `losscape hessian | sharpness | prune-saliency` as scripts run them (needs `npm run build`). */
const bin = path.resolve(__dirname, '../../bin/losscape.js');

function losscape(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, LOSSCAPE_BACKEND: 'wasm' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('losscape hessian / sharpness / prune-saliency (CLI)', function () {
  this.timeout(120_000);
  let ws: TinyWorkspace;
  before(async () => {
    assert.ok(existsSync(path.resolve(__dirname, '../../dist/cli.js')), 'dist/cli.js is missing: run npm run build');
    ws = await makeTinyWorkspace();
  });
  const io = () => ['--model', ws.model, '--data', ws.data, '--loss', 'sparse_categorical_crossentropy'];

  it('--help lists the commands and the contract flags', () => {
    const top = losscape(['--help']);
    for (const c of ['hessian', 'sharpness', 'prune-saliency']) assert.match(top.stdout, new RegExp(`\\b${c}\\b`));
    const h = losscape(['hessian', '--help']).stdout;
    for (const flag of ['--operator', '--top', '--trace', '--density', '--probes', '--samples', '--seed', '--out']) assert.ok(h.includes(flag), `hessian --help lacks ${flag}`);
    assert.ok(losscape(['sharpness', '--help']).stdout.includes('--rho'));
  });

  it('hessian writes eigenvalues (descending), residuals and the trace with stderr and samples', () => {
    const out = path.join(ws.dir, 'cli-h.losscape.json');
    const r = losscape(['hessian', ...io(), '--operator', 'ggn', '--top', '3', '--trace', '--probes', '10', '--samples', '60', '--seed', '4', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /top eigenvalues .*\ntrace /);
    const res = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.ok(res.kind === 'hessian' && res.complete);
    const h = res.result;
    assert.equal(h.eigenvalues.length, 3);
    assert.deepEqual([...h.eigenvalues].sort((a, b) => b - a), h.eigenvalues);
    assert.equal(h.residuals.length, 3);
    assert.equal(h.trace!.samples.length, 10);
    assert.ok(h.trace!.stderr > 0 && Number.isFinite(h.trace!.estimate));
    assert.equal(res.provenance.data.samplesUsed, 60);
    assert.equal(res.provenance.seed, 4);
    assert.equal(res.backend, 'wasm');
  });

  it('sharpness writes result.sam = [{rho, firstOrder, ascent}]', () => {
    const out = path.join(ws.dir, 'cli-s.losscape.json');
    const r = losscape(['sharpness', ...io(), '--rho', '0.02,0.2', '--ascent-steps', '3', '--average-samples', '4', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /SAM ρ = 0.02: first-order/);
    const res = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.ok(res.kind === 'sharpness' && res.complete);
    assert.deepEqual(res.result.sam.map((e) => e.rho), [0.02, 0.2]);
    for (const e of res.result.sam) assert.ok(e.ascent >= e.firstOrder && e.firstOrder > 0);
  });

  it('prune-saliency writes per-layer summaries', () => {
    const out = path.join(ws.dir, 'cli-p.losscape.json');
    const r = losscape(['prune-saliency', ...io(), '--gradients', '16', '--top', '3', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const res = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.ok(res.kind === 'saliency' && res.complete);
    assert.equal(res.result.layers.length, 2);
    assert.equal(res.result.mostSalient.length, 3);
  });

  it('bad input: one line on stderr, non-zero exit (2 for an input the engine refuses)', () => {
    for (const [args, pattern, code] of [
      [['hessian', ...io(), '--top', '500', '--out', path.join(ws.dir, 'x.losscape.json')], /losscape hessian: --top: k = 500 exceeds the 67 parameters of the model/, 2],
      [['hessian', ...io(), '--operator', 'newton', '--out', path.join(ws.dir, 'x.losscape.json')], /--operator.*newton/, null],
      [['sharpness', ...io(), '--rho', '0.1,-1', '--out', path.join(ws.dir, 'x.losscape.json')], /--rho must be positive numbers/, null],
    ] as const) {
      const r = losscape([...args]);
      if (code === null) assert.notEqual(r.code, 0, r.stderr);
      else assert.equal(r.code, code, r.stderr);
      const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('(run with --help'));
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], pattern);
    }
  });
});
