import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';

const root = path.join(__dirname, '..', '..');
/** Traces TF.js code leaves in a bundle (its kernel registry, a require, esbuild's source-path comments). */
const TFJS_MARKERS = [/registerKernel/, /require\(["']@tensorflow/, /node_modules\/@tensorflow/, /tfjs-core\/dist/];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** docs/architecture.md: the extension host never loads TensorFlow.js; it activates fast. */
describe('extension bundle (dist/extension.js)', function () {
  this.timeout(60_000);
  let tmp = '';
  let built = '';
  let inputs: string[] = [];

  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'lc-bundle-'));
    const outfile = path.join(tmp, 'extension.js');
    const result = await esbuild.build({
      entryPoints: [path.join(root, 'src', 'extension', 'extension.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['vscode'],
      outfile,
      metafile: true,
      logLevel: 'silent',
      absWorkingDir: root,
    });
    built = readFileSync(outfile, 'utf8');
    inputs = Object.keys(result.metafile.inputs);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('bundles no TensorFlow.js module', () => {
    const tf = inputs.filter((i) => /@tensorflow|src\/engine\//.test(i));
    assert.deepEqual(tf, [], 'the extension bundle pulls in engine or TF.js code');
    for (const marker of TFJS_MARKERS) assert.ok(!marker.test(built), `bundle matches ${marker}`);
  });

  it('the built dist/extension.js has no TensorFlow.js either', () => {
    const dist = path.join(root, 'dist', 'extension.js');
    assert.ok(existsSync(dist), 'dist/extension.js is missing: build first (node scripts/build.mjs; npm test does)');
    const text = readFileSync(dist, 'utf8');
    for (const marker of TFJS_MARKERS) assert.ok(!marker.test(text), `dist/extension.js matches ${marker}`);
  });

  it('stays small (wiring, zod and vscode-jsonrpc only)', () => {
    assert.ok(built.length < 600_000, `bundle is ${built.length} bytes`);
  });

  it('src/extension imports neither the engine, TF.js nor the webview', () => {
    for (const file of sourceFiles(path.join(root, 'src', 'extension'))) {
      const text = readFileSync(file, 'utf8');
      const imports = [...text.matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]);
      for (const spec of imports) {
        const target = spec.startsWith('.') ? path.relative(root, path.resolve(path.dirname(file), spec)) : spec;
        assert.ok(!/^@tensorflow|^src\/engine\/|^webview\//.test(target), `${path.relative(root, file)} imports ${spec}`);
      }
    }
  });
});
