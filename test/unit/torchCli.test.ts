import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseResult } from '../../src/shared/result';
import { makeTwinWorkspace, torchPython, type TwinWorkspace } from './helpers/torchTwins';

/** The `losscape` command line on the torch engine (needs `npm run build` and the torch venv). */
const bin = path.resolve(__dirname, '../../bin/losscape.js');

describe('losscape CLI on the torch engine', function () {
  this.timeout(180_000);
  let ws: TwinWorkspace;
  let python: string;
  before(async () => {
    assert.ok(existsSync(path.resolve(__dirname, '../../dist/cli.js')), 'dist/cli.js is missing: run npm run build');
    python = torchPython();
    ws = await makeTwinWorkspace(mkdtempSync(path.join(os.tmpdir(), 'losscape-torch-cli-')), 'mlp', [4]);
  });

  it('the header names torch, its version, the device and threads (as the result’s backend does), not the TF.js backend', () => {
    const out = path.join(ws.dir, 'cli-torch.losscape.json');
    const r = spawnSync(
      process.execPath,
      [bin, 'landscape', '--model', ws.torchModel, '--weights', ws.torch[0], '--data', ws.torchData, '--loss', 'CrossEntropyLoss', '--points', '3', '--python', python, '--out', out],
      { encoding: 'utf8', env: { ...process.env, LOSSCAPE_BACKEND: 'wasm', LOSSCAPE_PROGRESS: '1' } },
    );
    assert.equal(r.status, 0, r.stderr);
    const result = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.ok(result.kind === 'landscape');
    const b = result.provenance.backend;
    assert.equal(b.name, 'torch');
    const headers = r.stderr.split(/[\r\n]+/).filter((l) => l.startsWith('losscape: landscape on'));
    assert.equal(headers.length, 1, `one header line:\n${r.stderr}`);
    const header = headers[0];
    assert.ok(header.includes(b.version), `${header} names ${b.version}`);
    assert.match(b.version, /^torch \d+\.\d+/);
    assert.ok(header.includes(`${b.device}`) && header.includes(`${b.threads} thread`) && header.includes('float32'), header);
    assert.doesNotMatch(r.stderr, /on (wasm|cpu|tensorflow)\b/);
  });
});
