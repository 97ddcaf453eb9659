#!/usr/bin/env node
// Tests the extension in a real VS Code, offline (docs/testing-vscode.md):
//   1. builds dist/* and bundles the extension-host suite (out/test/vscode/suite/*.js);
//   2. makes fresh fixture workspaces and packages + installs the .vsix into a fresh
//      extensions dir;
//   3. starts code-server (VS Code 1.100) on 127.0.0.1 with a fresh user-data dir;
//   4. runs the mocha suite inside its extension host (URL payload trick), then the Playwright
//      e2e against the installed package; screenshots go to test-results/;
//   5. always kills code-server (its whole process group: extension hosts, engines).
// Installs nothing: run scripts/setup-vscode.sh first. Exit code: non-zero if anything failed.
//
//   node scripts/vscode-test.mjs [--only suite|e2e]
//   LOSSCAPE_SUITE_ONLY=codelens,panels   only those extension-host test files
//   LOSSCAPE_E2E_ONLY=editor               only test/e2e/editor.e2e.test.ts
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { buildAll, prepareWorkspaces, root, sh, step } from './lib/vscodeTestSetup.mjs';

const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? process.argv[onlyAt + 1] : undefined;
if (only && only !== 'suite' && only !== 'e2e') {
  console.error('usage: node scripts/vscode-test.mjs [--only suite|e2e]');
  process.exit(2);
}
const runSuite = only !== 'e2e';
const runE2e = only !== 'suite';

const base = path.join(root, '.tmp', 'vscode-test');
const results = path.join(root, 'test-results');
const codeServer = path.join(root, '.tools', 'node_modules', '.bin', 'code-server');
const chromiumPath = process.env.LOSSCAPE_CHROMIUM ?? '/usr/bin/chromium';
const started = Date.now();

function preflight() {
  const missing = [];
  if (!existsSync(codeServer)) missing.push(`code-server 4.100.3 (expected at ${path.relative(root, codeServer)})`);
  if (!existsSync(chromiumPath)) missing.push(`Chromium (expected at ${chromiumPath}; LOSSCAPE_CHROMIUM overrides)`);
  if (!existsSync(path.join(root, 'node_modules', 'playwright-core'))) missing.push('playwright-core (npm install)');
  if (missing.length) {
    console.error(`[vscode-test] cannot run the VS Code tests; missing:\n  - ${missing.join('\n  - ')}\nRun: bash scripts/setup-vscode.sh`);
    process.exit(1);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url, child, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode} (see ${path.join(base, 'code-server.log')})`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer ${url}/healthz within ${ms / 1000} s`);
}

/** Kills code-server's whole process group (extension hosts and engine processes included). */
async function stop(child) {
  if (!child?.pid) return;
  const group = -child.pid;
  const alive = () => {
    try {
      process.kill(group, 0);
      return true;
    } catch {
      return false;
    }
  };
  try {
    process.kill(group, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive()) process.kill(group, 'SIGKILL');
}

function runNode(args, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

preflight();
mkdirSync(base, { recursive: true });
mkdirSync(results, { recursive: true });
await step('build', () => buildAll());
const ws = step('fixture workspaces', () => prepareWorkspaces(base, ['ws-suite', 'ws-e2e']));
const userData = path.join(base, 'user-data');
const extensions = path.join(base, 'extensions');
rmSync(userData, { recursive: true, force: true });
rmSync(extensions, { recursive: true, force: true });
mkdirSync(path.join(userData, 'User'), { recursive: true });
mkdirSync(extensions, { recursive: true });
writeFileSync(
  path.join(userData, 'User', 'settings.json'),
  JSON.stringify(
    {
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'workbench.enableExperiments': false,
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'git.enabled': false,
      'editor.codeLens': true,
      'window.restoreWindows': 'none',
    },
    null,
    2,
  ),
);
const config = path.join(base, 'code-server.yaml');
writeFileSync(config, 'auth: none\n');
const csFlags = ['--config', config, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', '--ignore-last-opened', '--extensions-dir', extensions, '--user-data-dir', userData];

if (runE2e) {
  step('package and install the .vsix', () => {
    const vsix = path.join(base, 'losscape.vsix');
    sh(process.execPath, [path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '-o', vsix], { stdio: ['ignore', 'ignore', 'inherit'] });
    sh(codeServer, [...csFlags, '--install-extension', vsix], { stdio: ['ignore', 'ignore', 'inherit'] });
  });
}

const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const log = openSync(path.join(base, 'code-server.log'), 'w');
let server;
const failures = [];
const onSignal = async () => {
  await stop(server);
  process.exit(130);
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
try {
  server = spawn(codeServer, [...csFlags, '--bind-addr', `127.0.0.1:${port}`], { cwd: base, detached: true, stdio: ['ignore', log, log] });
  await step('start code-server', () => waitHealthy(url, server, 60_000));
  const env = { LOSSCAPE_CODE_SERVER_URL: url, LOSSCAPE_EXTENSION_PATH: root, LOSSCAPE_CHROMIUM: chromiumPath, LOSSCAPE_TEST_RESULTS: results };
  if (runSuite) {
    const code = await step('extension-host suite', () => runNode([path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'test/vscode/runInBrowser.ts'], { ...env, LOSSCAPE_WORKSPACE: ws['ws-suite'] }));
    if (code !== 0) failures.push(`extension-host suite (exit ${code})`);
  }
  if (runE2e) {
    const mocha = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
    const code = await step('browser e2e', () =>
      runNode([mocha, '--no-config', '--require', 'tsx/cjs', '--extension', 'ts', '--timeout', '180000', '--reporter', 'spec', process.env.LOSSCAPE_E2E_ONLY ? `test/e2e/${process.env.LOSSCAPE_E2E_ONLY}.e2e.test.ts` : 'test/e2e/*.e2e.test.ts'], { ...env, LOSSCAPE_WORKSPACE: ws['ws-e2e'] }),
    );
    if (code !== 0) failures.push(`browser e2e (exit ${code})`);
  }
} catch (err) {
  failures.push(err instanceof Error ? err.message : String(err));
} finally {
  await stop(server);
}
const seconds = ((Date.now() - started) / 1000).toFixed(0);
if (failures.length) {
  const tail = existsSync(path.join(base, 'code-server.log')) ? readFileSync(path.join(base, 'code-server.log'), 'utf8').split('\n').slice(-15).join('\n') : '';
  console.error(`[vscode-test] FAILED after ${seconds} s: ${failures.join('; ')}\n--- code-server.log (tail) ---\n${tail}`);
  process.exit(1);
}
console.log(`[vscode-test] all VS Code tests passed in ${seconds} s; screenshots in ${path.relative(root, results)}/`);
