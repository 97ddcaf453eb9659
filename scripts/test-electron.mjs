#!/usr/bin/env node
// Runs the same extension-host suite (out/test/vscode/suite/index.js) under
// @vscode/test-electron, which downloads VS Code: for machines with a network. Offline, use
// scripts/vscode-test.mjs (code-server) instead — CI here does.
//
//   npm run test:electron -- [--version 1.100.3]   (@vscode/test-electron is a devDependency;
//   it downloads VS Code only when run)
import path from 'node:path';
import { buildAll, prepareWorkspaces, root, step } from './lib/vscodeTestSetup.mjs';

let runTests;
try {
  ({ runTests } = await import('@vscode/test-electron'));
} catch {
  console.error('[test-electron] @vscode/test-electron is not installed: run npm ci (it is a devDependency).');
  process.exit(1);
}

const versionAt = process.argv.indexOf('--version');
const version = versionAt > 0 ? process.argv[versionAt + 1] : '1.100.3';
const base = path.join(root, '.tmp', 'test-electron');
await step('build', () => buildAll());
const ws = step('fixture workspace', () => prepareWorkspaces(base, ['ws']));
try {
  await runTests({
    version,
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, 'out', 'test', 'vscode', 'suite', 'index'),
    launchArgs: [ws.ws, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes', `--user-data-dir=${path.join(base, 'user-data')}`],
  });
  console.log('[test-electron] extension-host suite passed');
} catch (err) {
  console.error(`[test-electron] extension-host suite failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
