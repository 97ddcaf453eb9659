import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeNpz } from '../../src/engine/loaders/npz';
import { parseResult, type LosscapeResult } from '../../src/shared/result';
import { blobs, makeTinyWorkspace, type TinyWorkspace } from './helpers/tinyModel';

/**
 * Fault drills on the command line (docs/architecture.md, "Result files"): the engine killed
 * mid-run, Ctrl-C to the whole process group, SIGTERM, a full disk while the JSON or the
 * sidecar is written, a crash between the sidecar and the JSON, two runs on one --out. In each:
 * no input changes, and the result path holds either the previous result or the new one (or
 * its partial), always as a consistent pair — the JSON valid, every sidecar it names present
 * and long enough, no other sidecar, lock or temporary of it left behind.
 */
const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin', 'losscape.js');
const preload = path.join(__dirname, 'helpers', 'faultInjection.cjs');

interface Done {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function start(args: string[], env: NodeJS.ProcessEnv = {}, detached = false): { child: ChildProcess; done: Promise<Done> } {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, LOSSCAPE_BACKEND: 'wasm', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  child.stdout!.resume();
  const done = new Promise<Done>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
  return { child, done };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

function readResult(file: string): LosscapeResult | null {
  try {
    return parseResult(JSON.parse(readFileSync(file, 'utf8')), file);
  } catch {
    return null;
  }
}

function sidecarsOf(r: LosscapeResult): { file: string; offset: number; length: number }[] {
  const found: { file: string; offset: number; length: number }[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.file === 'string' && o.dtype === 'float32') found.push(o as unknown as { file: string; offset: number; length: number });
      else Object.values(o).forEach(walk);
    }
  };
  walk(r.result);
  return found;
}

/** The result at `out` and its sidecar form a consistent pair, and nothing else of it is left. */
function assertConsistentPair(out: string): LosscapeResult {
  const r = readResult(out);
  assert.ok(r, `${out} is not a valid result`);
  const dir = path.dirname(out);
  const stem = path.basename(out, '.json');
  const named = new Set<string>();
  for (const d of sidecarsOf(r)) {
    const f = path.join(dir, d.file);
    assert.ok(existsSync(f), `the sidecar ${d.file} named by the result is missing`);
    assert.ok(statSync(f).size >= (d.offset + d.length) * 4, `the sidecar ${d.file} is shorter than the arrays the result names`);
    named.add(d.file);
  }
  const leftovers = readdirSync(dir).filter((n) => n.startsWith(`${stem}.`) && !named.has(n) && n !== path.basename(out));
  assert.deepEqual(leftovers, [], 'stale sidecars, locks or temporaries beside the result');
  return r;
}

function hashes(files: string[]): string[] {
  return files.map((f) => createHash('sha256').update(readFileSync(f)).digest('hex'));
}

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function oneLine(d: Done): string {
  const lines = d.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${d.stderr}`);
  assert.ok(!/\n\s+at |\(.*:\d+:\d+\)/.test(d.stderr), `stack trace:\n${d.stderr}`);
  return lines[0];
}

describe('fault drills: nothing lost, nothing hung, pairs stay consistent', function () {
  this.timeout(240_000);
  let ws: TinyWorkspace;
  let data: string;
  let inputs: string[];
  let inputHashes: string[];
  let serial = 0;
  const args = (out: string, points: number): string[] => ['landscape', '--model', ws.model, '--data', data, '--loss', 'sparse_categorical_crossentropy', '--points', String(points), '--out', out];

  /** A fresh result path holding a complete previous result. */
  async function previous(): Promise<{ out: string; before: LosscapeResult; json: string }> {
    const out = path.join(ws.dir, `fault-${++serial}.losscape.json`);
    const r = spawnSync(process.execPath, [bin, ...args(out, 3)], { env: { ...process.env, LOSSCAPE_BACKEND: 'wasm' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const before = assertConsistentPair(out);
    assert.equal(before.complete, true);
    return { out, before, json: readFileSync(out, 'utf8') };
  }

  /** Waits until the new run has replaced the previous result with a partial one (a row done). */
  function partialOf(out: string, prev: LosscapeResult): Promise<LosscapeResult> {
    const prevSidecar = sidecarsOf(prev)[0].file;
    return until('a partial result of the new run', () => {
      const r = readResult(out);
      return r && !r.complete && r.kind === 'landscape' && r.result.dims === 2 && r.result.rowsDone >= 1 && sidecarsOf(r)[0].file !== prevSidecar ? r : null;
    });
  }

  before(async () => {
    assert.ok(existsSync(path.join(root, 'dist', 'engine.js')), 'dist/engine.js is missing: run npm run build');
    ws = await makeTinyWorkspace();
    // 3000 samples: a 61×61 grid takes long enough to be interrupted half way.
    const { x, y } = blobs(3000, 9);
    data = path.join(ws.dir, 'big.npz');
    writeFileSync(data, encodeNpz({ x: { dtype: 'float32', shape: [3000, 4], data: x }, y: { dtype: 'int32', shape: [3000], data: y } }));
    inputs = [ws.model, path.join(path.dirname(ws.model), 'group1-shard1of1.bin'), data];
    inputHashes = hashes(inputs);
  });

  afterEach(() => assert.deepEqual(hashes(inputs), inputHashes, 'an input changed'));

  it('engine killed mid-run over a previous result: exit 1, one line, the partial and its sidecar are a pair', async () => {
    const { out, before } = await previous();
    const run = start(args(out, 61));
    await partialOf(out, before);
    const engines = children(run.child.pid!);
    assert.equal(engines.length, 1, 'expected one engine process');
    process.kill(engines[0], 'SIGKILL');
    const d = await run.done;
    assert.equal(d.code, 1);
    assert.match(oneLine(d), /engine process killed by SIGKILL/);
    const r = assertConsistentPair(out);
    assert.equal(r.complete, false);
    assert.match(r.status ?? '', /^interrupted: /);
  });

  it('Ctrl-C to the whole process group: exit 130, the partial marked cancelled, a consistent pair', async () => {
    const { out, before } = await previous();
    const run = start(args(out, 61), {}, true);
    await partialOf(out, before);
    process.kill(-run.child.pid!, 'SIGINT');
    const d = await run.done;
    assert.equal(d.code, 130, d.stderr);
    assert.match(oneLine(d), /cancelled; the partial result is in .*fault-\d+\.losscape\.json/);
    const r = assertConsistentPair(out);
    assert.equal(r.complete, false);
    assert.match(r.status ?? '', /^cancelled after \d+ of 3721 points$/);
  });

  it('SIGTERM to the CLI: exit 130, the partial marked cancelled', async () => {
    const { out, before } = await previous();
    const run = start(args(out, 61));
    await partialOf(out, before);
    run.child.kill('SIGTERM');
    const d = await run.done;
    assert.equal(d.code, 130, d.stderr);
    const r = assertConsistentPair(out);
    assert.match(r.status ?? '', /^cancelled after/);
  });

  for (const where of ['json', 'sidecar'] as const) {
    it(`disk full while the ${where} is written: exit 2, one line, the previous result intact, no temporaries`, async () => {
      const { out, json } = await previous();
      const d = await start(args(out, 5), { NODE_OPTIONS: `--require ${preload}`, LOSSCAPE_TEST_FAULT: `enospc-${where}` }).done;
      assert.equal(d.code, 2, d.stderr);
      assert.match(oneLine(d), /cannot be written: no space left on the device \(ENOSPC\)/);
      assert.equal(readFileSync(out, 'utf8'), json, 'the previous result changed');
      assertConsistentPair(out);
    });
  }

  it('crash between the sidecar and the JSON: the previous pair intact; the next run cleans up', async () => {
    const { out, json } = await previous();
    const d = await start(args(out, 5), { NODE_OPTIONS: `--require ${preload}`, LOSSCAPE_TEST_FAULT: 'kill-after-sidecar' }).done;
    assert.equal(d.code, 1, d.stderr);
    assert.match(oneLine(d), /killed by SIGKILL/);
    assert.equal(readFileSync(out, 'utf8'), json, 'the previous result changed');
    const prev = readResult(out)!;
    for (const s of sidecarsOf(prev)) assert.ok(existsSync(path.join(path.dirname(out), s.file)), 'the previous sidecar is gone');
    // The new sidecar was written and never named: the next run on this path removes it.
    const again = spawnSync(process.execPath, [bin, ...args(out, 3)], { env: { ...process.env, LOSSCAPE_BACKEND: 'wasm' }, encoding: 'utf8' });
    assert.equal(again.status, 0, again.stderr);
    assert.equal(assertConsistentPair(out).complete, true);
  });

  it('two runs on one --out: the second is refused in one line while the first runs; the first completes as a pair', async () => {
    const { out, before } = await previous();
    const first = start(args(out, 25));
    await partialOf(out, before);
    const second = await start(args(out, 3)).done;
    assert.equal(second.code, 2, second.stderr);
    assert.match(oneLine(second), new RegExp(`is being written by another Losscape run \\(pid ${children(first.child.pid!)[0]}\\)`));
    const d = await first.done;
    assert.equal(d.code, 0, d.stderr);
    const r = assertConsistentPair(out);
    assert.equal(r.complete, true);
  });
});
