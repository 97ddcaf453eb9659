import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseResult } from '../../src/shared/result';
import { makeTinyWorkspace, type TinyWorkspace } from './helpers/tinyModel';

/** The papers' losses and compare-losses from the command line (needs `npm run build`). */
const bin = path.resolve(__dirname, '../../bin/losscape.js');

function losscape(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, LOSSCAPE_BACKEND: 'wasm' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneLine(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit 2, got ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('(run with --help'));
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0], pattern);
}

describe('losscape CLI: --loss-param and compare-losses', function () {
  this.timeout(120_000);
  let ws: TinyWorkspace;
  before(async () => {
    assert.ok(existsSync(path.resolve(__dirname, '../../dist/cli.js')), 'dist/cli.js is missing: run npm run build');
    ws = await makeTinyWorkspace();
  });

  it('a landscape under gce with --loss-param records the loss, its parameters and formula', () => {
    const out = path.join(ws.dir, 'gce.losscape.json');
    const r = losscape(['landscape', '--model', ws.model, '--data', ws.data, '--loss', 'gce', '--loss-param', 'q=0.5', '--dims', '1', '--points', '3', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /loss gce \(q = 0\.5\)/);
    const res = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.ok(res.kind === 'landscape' && 'loss' in res.provenance);
    assert.deepEqual(res.provenance.loss.params, { q: 0.5 });
    assert.equal(res.provenance.loss.reading, 'pre-activation');
    assert.match(res.provenance.loss.definition ?? '', /\(1 − p_y\^q\)\/q/);
  });

  it('bad loss names and parameters are one line and exit 2', () => {
    const base = ['landscape', '--model', ws.model, '--data', ws.data, '--dims', '1', '--points', '3', '--out', path.join(ws.dir, 'bad.losscape.json')];
    oneLine(losscape([...base, '--loss', 'comp_sum', '--loss-param', 'tau=3']), /--loss-param: comp_sum needs tau in \[0, 2\], got 3/);
    oneLine(losscape([...base, '--loss', 'gce', '--loss-param', 'q=0']), /--loss-param: gce needs q in \(0, 1\], got 0/);
    oneLine(losscape([...base, '--loss', 'zloss', '--loss-param', 'a=-1']), /--loss-param: zloss needs a in \(0, ∞\), got -1/);
    oneLine(losscape([...base, '--loss', 'nope']), /--loss: unknown loss 'nope'/);
    oneLine(losscape([...base, '--loss', 'gce', '--loss-param', 'q']), /expects KEY=VALUE with a number, got 'q'/);
    oneLine(losscape([...base, '--loss', 'multi_similarity', '--batch-size', '1']), /--batch-size: multi_similarity is a batch-level loss: it needs batches of at least 2 samples, got 1/);
    oneLine(losscape(['compare-losses', '--model', ws.model, '--data', ws.data, '--losses', 'ce,gce:q=2', '--out', path.join(ws.dir, 'c.losscape.json')]), /--losses: gce:q=2: gce needs q in \(0, 1\], got 2/);
  });

  it('compare-losses writes a loss-comparison with one entry per loss, in order', () => {
    const out = path.join(ws.dir, 'cmp.losscape.json');
    const r = losscape(['compare-losses', '--model', ws.model, '--data', ws.data, '--losses', 'ce,zloss:a=1:b=2', '--top', '1', '--probes', '4', '--points1d', '5', '--points2d', '3', '--samples', '32', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const res = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.ok(res.kind === 'loss-comparison');
    assert.deepEqual(res.result.losses.map((e) => [e.name, e.params]), [['categorical_crossentropy', {}], ['zloss', { a: 1, b: 2 }]]);
    for (const e of res.result.losses) assert.ok(e.eigenvalues.length === 1 && Number.isFinite(e.trace.estimate) && e.landscape2d.length === 3);
    assert.match(r.stdout, /zloss:a=1:b=2 +L /);
  });
});
