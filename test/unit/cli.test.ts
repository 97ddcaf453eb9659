import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseResult } from '../../src/shared/result';
import { makeTinyWorkspace, type TinyWorkspace } from './helpers/tinyModel';

/** The `losscape` command line as users run it (needs `npm run build`; npm test does it). */
const bin = path.resolve(__dirname, '../../bin/losscape.js');

function losscape(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, LOSSCAPE_BACKEND: 'wasm' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneLineError(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  assert.notEqual(r.code, 0, 'expected a non-zero exit');
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('(run with --help'));
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0], pattern);
}

describe('losscape CLI', function () {
  this.timeout(120_000);
  let ws: TinyWorkspace;
  before(async () => {
    assert.ok(existsSync(path.resolve(__dirname, '../../dist/cli.js')), 'dist/cli.js is missing: run npm run build');
    ws = await makeTinyWorkspace();
  });

  it('--help documents every command and the landscape flags', () => {
    const top = losscape(['--help']);
    assert.equal(top.code, 0);
    for (const c of ['landscape', 'report']) assert.match(top.stdout, new RegExp(`\\b${c}\\b`));
    const l = losscape(['landscape', '--help']);
    for (const f of ['--model', '--data', '--loss', '--dims', '--points', '--range', '--norm', '--seed', '--samples', '--to', '--out']) assert.ok(l.stdout.includes(f), `landscape --help lacks ${f}`);
  });

  it('computes a landscape and writes a report', () => {
    const out = path.join(ws.dir, 'cli.losscape.json');
    const r = losscape(['landscape', '--model', ws.model, '--data', ws.data, '--loss', 'sparse_categorical_crossentropy', '--dims', '2', '--points', '5', '--range', '-0.5,0.5', '--seed', '3', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /centre loss/);
    const res = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.equal(res.complete, true);
    assert.ok(res.kind === 'landscape' && res.result.dims === 2);
    assert.deepEqual(res.result.x, [-0.5, -0.25, 0, 0.25, 0.5]);
    assert.equal(res.backend, 'wasm');
    const html = path.join(ws.dir, 'r.html');
    const rep = losscape(['report', out, '--out', html]);
    assert.equal(rep.code, 0, rep.stderr);
    const text = readFileSync(html, 'utf8');
    assert.match(text, /Content-Security-Policy/);
    assert.ok(!/<script[^>]+src=/.test(text), 'the report must be self-contained');
  });

  it('bad input: one line on stderr, non-zero exit (2 for usage and input errors)', () => {
    const usage = losscape(['hessian', '--model', ws.model, '--data', ws.data, '--operator', 'bogus', '--out', 'x.json']);
    oneLineError(usage, /argument 'bogus' is invalid/);
    assert.equal(usage.code, 2);
    oneLineError(losscape(['landscape', '--data', ws.data, '--out', 'x.json']), /required option '--model <file>' not specified/);
    oneLineError(losscape(['landscape', '--model', ws.model, '--data', ws.data, '--points', 'many', '--out', 'x.json']), /--points must be an integer/);
    oneLineError(losscape(['landscape', '--model', ws.model, '--data', ws.data, '--range', '1,0', '--out', 'x.json']), /--range must be two increasing numbers/);
    oneLineError(losscape(['landscape', '--model', path.join(ws.dir, 'missing', 'model.json'), '--data', ws.data, '--out', path.join(ws.dir, 'x.losscape.json')]), /missing[/\\]model\.json/);
    oneLineError(losscape(['landscape', '--model', ws.model, '--data', ws.data, '--loss', 'nope', '--out', path.join(ws.dir, 'x.losscape.json')]), /--loss: unknown loss 'nope'/);
    const notJson = path.join(ws.dir, 'bad.losscape.json');
    writeFileSync(notJson, '{"schema": "losscape/1"}');
    oneLineError(losscape(['report', notJson, '--out', path.join(ws.dir, 'bad.html')]), /bad\.losscape\.json: not a valid Losscape result/);
  });
});
