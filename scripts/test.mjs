// `npm test`: set-up, build, type-check, then every suite — unit (mocha), charts in headless
// Chromium, and the VS Code suites (extension host + browser end to end in code-server).
// Each suite runs even if an earlier one failed; the exit code is non-zero if any failed.
//
// Set-up: every `scripts/setup-*.sh` runs first, in name order, so that `npm ci && npm test`
// passes on a fresh machine. Each one installs what some suite needs (Debian packages, tools
// under .tools/, Python venvs), must be idempotent and cached (a second run only checks, in
// seconds), and exits non-zero when it cannot. A suite is added with its set-up by dropping a
// `scripts/setup-NAME.sh` beside the others. LOSSCAPE_SKIP_SETUP=1 skips them.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const setup =
  process.env.LOSSCAPE_SKIP_SETUP === '1'
    ? []
    : readdirSync('scripts')
        .filter((f) => /^setup-[\w-]+\.sh$/.test(f))
        .sort()
        .map((f) => [`set-up ${f}`, 'bash', [`scripts/${f}`]]);

const steps = [
  ...setup,
  ['build', 'node', ['scripts/build.mjs']],
  ['typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
  ['typecheck webview', 'npx', ['tsc', '-p', 'tsconfig.webview.json', '--noEmit']],
  ['typecheck Chromium tests', 'npx', ['tsc', '-p', 'tsconfig.test-webview.json']],
  ['unit', 'npx', ['mocha']],
  ['pytest (torch 2.13)', '.tools/torch-venv/bin/python', ['-m', 'pytest', 'python/tests', '-q']],
  ['pytest smoke (torch 1.13, /usr/bin/python3)', '/usr/bin/python3', ['-m', 'pytest', 'python/tests', '-q', '-m', 'smoke']],
  // The TS side of the torch engine on the oldest torch: the @smoke tests of torchEngine.test.ts
  // with Debian's interpreter; they fail (never skip) when it lacks torch 1.13.
  ['torch engine smoke (torch 1.13, /usr/bin/python3)', 'env', ['LOSSCAPE_TEST_PYTHON=/usr/bin/python3', 'LOSSCAPE_TEST_TORCH=1.13', 'npx', 'mocha', '--no-config', '--require', 'tsx/cjs', '--extension', 'ts', '--timeout', '300000', '--grep', '@smoke', 'test/unit/torchEngine.test.ts']],
];
// Issue 9's criteria: the demo MLP's default top-5 against float64 eigsh for seeds 0–9, and the
// demo-digits CNN's curvature, SAM and grokking statistics through the CLI (references from
// scripts/setup-demo-reference.sh and setup-demo-cnn-reference.sh, run with the other set-ups).
steps.push(['demo MLP and CNN vs float64 references', 'npx', ['mocha', '--no-config', '--require', 'tsx/cjs', '--extension', 'ts', '--timeout', '900000', 'test/reference/**/*.test.ts']]);
if (existsSync('test/webview')) steps.push(['charts (Chromium)', 'npx', ['mocha', '--no-config', '--require', 'tsx/cjs', '--extension', 'ts', '--timeout', '120000', 'test/webview/**/*.test.ts']]);
if (existsSync('scripts/vscode-test.mjs')) steps.push(['VS Code (code-server + Chromium)', 'node', ['scripts/vscode-test.mjs']]);

const results = [];
for (const [name, cmd, args] of steps) {
  const t0 = Date.now();
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', shell: false });
  const ok = r.status === 0;
  results.push({ name, ok, seconds: (Date.now() - t0) / 1000 });
  // Nothing can be tested without a build. A failed set-up fails the run but the suites that do
  // not need it still run.
  if (!ok && name === 'build') break;
}
console.log('\n=== summary');
for (const r of results) console.log(`${r.ok ? 'pass' : 'FAIL'}  ${r.name} (${r.seconds.toFixed(1)} s)`);
const failed = results.filter((r) => !r.ok).length;
console.log(`suites: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
