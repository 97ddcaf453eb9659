// Shared by scripts/vscode-test.mjs (code-server, here) and scripts/test-electron.mjs
// (@vscode/test-electron, where VS Code can be downloaded): builds the bundles, bundles the
// extension-host suite, and makes fresh copies of the fixture workspace.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

export function step(name, fn) {
  const t = Date.now();
  process.stdout.write(`[vscode-test] ${name}…\n`);
  const r = fn();
  const done = (v) => {
    process.stdout.write(`[vscode-test] ${name}: ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
    return v;
  };
  return r instanceof Promise ? r.then(done) : done(r);
}

export function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
  return r;
}

/** dist/* (extension, engine, webview) and out/test/vscode/suite/*.js (vscode and mocha external). */
export async function buildAll() {
  sh(process.execPath, ['scripts/build.mjs']);
  const suiteDir = path.join(root, 'test', 'vscode', 'suite');
  const outdir = path.join(root, 'out', 'test', 'vscode', 'suite');
  rmSync(path.join(root, 'out', 'test', 'vscode'), { recursive: true, force: true });
  // LOSSCAPE_SUITE_ONLY=codelens,panels bundles only those test files (one at a time on a busy machine).
  const only = process.env.LOSSCAPE_SUITE_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  const picked = (f) => !only || only.some((o) => f === `${o}.test.ts`);
  await esbuild.build({
    entryPoints: readdirSync(suiteDir).filter((f) => f === 'index.ts' || (f.endsWith('.test.ts') && picked(f))).map((f) => path.join(suiteDir, f)),
    outdir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    external: ['vscode', 'mocha'],
    logLevel: 'warning',
    absWorkingDir: root,
  });
}

/**
 * Fresh copies of test/fixtures/workspace under `base` (one per name), each with the generated
 * tiny model and data (test/fixtures/makeFixtures.ts, run once) and a sample result file.
 */
export function prepareWorkspaces(base, names) {
  const gen = path.join(base, 'fixture-gen');
  rmSync(gen, { recursive: true, force: true });
  mkdirSync(gen, { recursive: true });
  sh(process.execPath, [path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'test/fixtures/makeFixtures.ts', gen], { stdio: ['ignore', 'inherit', 'inherit'] });
  const sample = path.join(root, 'test', 'fixtures', 'results', 'landscape-2d.losscape.json');
  if (!existsSync(sample)) throw new Error(`${sample} is missing: the result-file tests need it`);
  const out = {};
  for (const name of names) {
    const ws = path.join(base, name);
    rmSync(ws, { recursive: true, force: true });
    cpSync(path.join(root, 'test', 'fixtures', 'workspace'), ws, { recursive: true });
    cpSync(gen, ws, { recursive: true });
    mkdirSync(path.join(ws, 'results'), { recursive: true });
    cpSync(sample, path.join(ws, 'results', 'sample.losscape.json'));
    out[name] = ws;
  }
  return out;
}
