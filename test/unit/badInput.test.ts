import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { EngineClient, EngineError } from '../../src/client/engineClient';
import { EngineErrorCode } from '../../src/shared/errors';
import { cliArgs, makeBadInputCorpus, optionCases, type BadCase } from './helpers/badInputCorpus';
import { highWaterKiB, inBatches, runWatched } from './helpers/processWatch';
import { makeTinyWorkspace, type TinyWorkspace } from './helpers/tinyModel';

/**
 * The bad-input corpus (helpers/badInputCorpus.ts): every malformed model, data file, loss
 * module, checkpoint series, result path and option gets exit code 2 and one line naming the
 * file and the problem — no stack trace, no hang, no memory blow-up, nothing written.
 *
 * Every case goes through one engine process (the same code path as the CLI and the extension,
 * without paying a process start per case); a share of them, and every option error, also goes
 * through the `losscape` command line, in parallel, with the memory of the CLI and its engine
 * sampled from /proc. The read limit is set to 16 MiB so that the oversized fixtures stay
 * small on disk (sparse files, zip headers): what is checked is that they are refused from
 * their stated size, before anything is read or inflated.
 */
const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin', 'losscape.js');
const LIMIT = String(16 * 2 ** 20);
/** Peak resident memory allowed for the CLI and its engine together on one bad input. */
const PEAK_MIB = 900;

const STACK = /\n\s+at |\bat [\w.<>]+ \(.*:\d+:\d+\)|^\s*at /m;

function checkLine(c: BadCase, line: string): void {
  assert.ok(!line.includes('\n'), `${c.name}: more than one line:\n${line}`);
  assert.ok(!STACK.test(line), `${c.name}: stack trace in:\n${line}`);
  const named = line.includes(c.names) || line.includes(path.basename(c.names));
  assert.ok(named, `${c.name}: the line does not name ${c.names}:\n${line}`);
  assert.match(line, c.problem, c.name);
}

/** Everything under `dir` as it stands (content hash for small files, size and mtime for big ones). */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && st.size < 16 * 2 ** 20) out.set(p, createHash('sha256').update(readFileSync(p)).digest('hex'));
      else out.set(p, `${st.mode}:${st.size}:${st.mtimeMs}`);
    }
  };
  walk(dir);
  return out;
}

function assertUnchanged(before: Map<string, string>, after: Map<string, string>): void {
  const changed = [...after].filter(([p, h]) => before.get(p) !== h).map(([p]) => p);
  const gone = [...before.keys()].filter((p) => !after.has(p));
  assert.deepEqual({ changed, gone }, { changed: [], gone: [] }, 'a refused input changed the files (inputs overwritten, results or temporaries left behind)');
}

describe('bad input: one line, exit code 2, bounded memory, nothing written', function () {
  this.timeout(600_000);
  let ws: TinyWorkspace;
  let cases: BadCase[];
  let initial: Map<string, string>;

  before(async () => {
    assert.ok(existsSync(path.join(root, 'dist', 'engine.js')), 'dist/engine.js is missing: run npm run build');
    ws = await makeTinyWorkspace();
    cases = await makeBadInputCorpus(ws);
    initial = snapshot(ws.dir);
  });

  it('the corpus covers every loader, user-module path, option and result path (≥ 120 cases)', () => {
    const all = cases.length + optionCases(ws, path.join(ws.dir, 'o.losscape.json')).length;
    assert.ok(all >= 120, `only ${all} cases`);
    for (const topic of ['model.json', '.keras', '.h5', 'npz', 'npy', 'csv', 'loss module', 'checkpoint', '--out']) {
      assert.ok(cases.some((c) => c.name.includes(topic)), `no case about ${topic}`);
    }
  });

  it('every case, through one engine: an input error naming the file, in one line', async () => {
    const client = new EngineClient({ enginePath: path.join(root, 'dist', 'engine.js'), backend: 'wasm', env: { LOSSCAPE_MAX_BYTES: LIMIT } });
    const failures: string[] = [];
    try {
      await client.info();
      let tensors = 0;
      for (const c of cases) {
        const started = Date.now();
        try {
          await client.run(c.spec!);
          failures.push(`${c.name}: accepted`);
        } catch (err) {
          if (!(err instanceof EngineError)) throw err;
          if (err.code !== EngineErrorCode.input) failures.push(`${c.name}: error code ${err.code} (not an input error): ${err.message}`);
          else {
            try {
              checkLine(c, err.message);
            } catch (e) {
              failures.push((e as Error).message);
            }
          }
        }
        // A hang shows as a suite timeout; this records which case was slow to refuse.
        if (Date.now() - started > 30_000) failures.push(`${c.name}: took ${Date.now() - started} ms`);
        // Nothing leaked: a refused run frees every tensor it made.
        const left = (await client.tensorCount()).numTensors;
        if (left !== tensors) failures.push(`${c.name}: ${left - tensors} tensors left`);
        tensors = left;
      }
      const hwm = highWaterKiB(client.pid!);
      assert.ok(hwm > 0 && hwm < PEAK_MIB * 1024, `engine peak memory ${(hwm / 1024).toFixed(0)} MiB over ${cases.length} bad inputs`);
    } finally {
      client.dispose();
    }
    assert.deepEqual(failures, []);
    assertUnchanged(initial, snapshot(ws.dir));
  });

  it('through the losscape command line: exit 2, one stderr line, no stack trace, bounded memory', async () => {
    // Every option error, and every tenth input case (and all of those about pipes, devices and sizes).
    const resource = /FIFO|dev\/zero|GiB|GB|bomb|sparse|symlink|locked/;
    const chosen = [...optionCases(ws, path.join(ws.dir, 'bad', 'opt.losscape.json')), ...cases.filter((c, i) => i % 10 === 0 || resource.test(c.name))];
    const env = { ...process.env, LOSSCAPE_BACKEND: 'wasm', LOSSCAPE_MAX_BYTES: LIMIT, LOSSCAPE_PROGRESS: '0' };
    const results = await inBatches(chosen, 4, (c) => runWatched(process.execPath, [bin, ...(c.args ?? cliArgs(c.spec!))], { env, timeoutMs: 90_000 }));
    const failures: string[] = [];
    results.forEach((r, i) => {
      const c = chosen[i];
      const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
      if (r.timedOut) failures.push(`${c.name}: hung (killed after 90 s)`);
      else if (r.code !== 2) failures.push(`${c.name}: exit ${r.code} (${r.signal ?? ''}): ${r.stderr}`);
      else if (lines.length !== 1) failures.push(`${c.name}: ${lines.length} lines on stderr:\n${r.stderr}`);
      else {
        try {
          checkLine(c, lines[0]);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
      if (r.peakKiB > PEAK_MIB * 1024) failures.push(`${c.name}: peak memory ${(r.peakKiB / 1024).toFixed(0)} MiB`);
      if (r.stdout !== '') failures.push(`${c.name}: wrote to stdout: ${r.stdout}`);
    });
    assert.ok(chosen.length >= 40, `only ${chosen.length} CLI cases`);
    assert.deepEqual(failures, []);
    assertUnchanged(initial, snapshot(ws.dir));
  });
});
