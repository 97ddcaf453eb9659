import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { EngineClient, EngineError } from '../../src/client/engineClient';
import type { ProgressParams } from '../../src/shared/protocol';
import { parseResult } from '../../src/shared/result';
import { makeTinyWorkspace, type TinyWorkspace } from './helpers/tinyModel';

/**
 * The engine process as the CLI and the extension use it: forked dist/engine.js, JSON-RPC over
 * IPC. Needs `npm run build` first (npm test does it).
 */
const enginePath = path.resolve(__dirname, '../../dist/engine.js');

describe('engine process protocol', function () {
  let ws: TinyWorkspace;
  let client: EngineClient;
  const logs: string[] = [];

  before(async () => {
    assert.ok(existsSync(enginePath), `${enginePath} is missing: run npm run build`);
    ws = await makeTinyWorkspace();
    client = new EngineClient({ enginePath, backend: 'wasm', onLog: (p) => logs.push(`${p.level}: ${p.message}`) });
  });
  after(() => client.dispose());

  it('reports its backend and version', async () => {
    const info = await client.info();
    assert.equal(info.backend, 'wasm');
    assert.match(info.version, /tfjs 4\.22/);
  });

  it('streams progress with partial results and returns the tensor count to its baseline', async () => {
    const base = await client.tensorCount();
    const progress: ProgressParams[] = [];
    const out = path.join(ws.dir, 'p.losscape.json');
    const { result } = await client.run({ kind: 'landscape', model: ws.model, data: ws.data, out, points: 11 }, { onProgress: (p) => progress.push(p) });
    assert.equal(result.complete, true);
    assert.ok(progress.length >= 1, 'no progress notification');
    assert.equal(progress[0].partial?.complete, false);
    assert.ok(progress[0].partial?.kind === 'landscape' && progress[0].partial.result.dims === 2 && progress[0].partial.result.rowsDone >= 1);
    assert.deepEqual(await client.tensorCount(), base);
    // A second, different analysis leaks nothing either.
    await client.run({ kind: 'landscape', model: ws.model, to: ws.model2, data: ws.data, out: path.join(ws.dir, 'q.losscape.json'), points: 5 });
    assert.deepEqual(await client.tensorCount(), base);
  });

  it('cancellation stops the run and leaves a valid partial file', async () => {
    const out = path.join(ws.dir, 'c.losscape.json');
    const cts = new CancellationTokenSource();
    const run = client.run({ kind: 'landscape', model: ws.model, data: ws.data, out, points: 301 }, { token: cts.token, onProgress: () => cts.cancel() });
    await assert.rejects(run, (e: unknown) => e instanceof EngineError && e.cancelled);
    const file = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.equal(file.complete, false);
    assert.match(file.status ?? '', /^cancelled after \d+ of 90601 points/);
    assert.ok(file.kind === 'landscape' && file.result.dims === 2 && file.result.rowsDone >= 1 && file.result.rowsDone < 301);
  });

  it('a crash rejects with a clear error, keeps the partial file, and the next request restarts the engine', async () => {
    const out = path.join(ws.dir, 'k.losscape.json');
    const pid = client.pid;
    let killed = false;
    const run = client.run({ kind: 'landscape', model: ws.model, data: ws.data, out, points: 301 }, {
      onProgress: () => {
        if (!killed) {
          killed = true;
          client.kill('SIGKILL');
        }
      },
    });
    await assert.rejects(run, /engine process killed by SIGKILL; it will be restarted/);
    const file = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.equal(file.complete, false);
    assert.match(file.status ?? '', /^interrupted: the Losscape engine process killed by SIGKILL/);
    const info = await client.info();
    assert.notEqual(info.pid, pid);
  });

  it('bad input is an input error naming the file, and the engine stays up', async () => {
    const missing = path.join(ws.dir, 'nope', 'model.json');
    await assert.rejects(client.run({ kind: 'landscape', model: missing, data: ws.data, out: path.join(ws.dir, 'e.losscape.json') }), (e: unknown) => {
      assert.ok(e instanceof EngineError && e.isInputError, String(e));
      assert.match((e as Error).message, /nope[/\\]model\.json/);
      return true;
    });
    await assert.rejects(client.run({ kind: 'landscape', model: ws.model, data: ws.data, out: path.join(ws.dir, 'f.losscape.json'), points: 1 }), /option points: /);
    assert.equal((await client.info()).backend, 'wasm');
  });
});
