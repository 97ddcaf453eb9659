/**
 * The extension-host test runner: the `run()` contract of @vscode/test-electron, which
 * code-server's workbench also honours when `extensionTestsPath` comes in the URL payload
 * (docs/testing-vscode.md). Runs every bundled `*.test.js` beside this file with mocha and writes a
 * summary to ../suite-results.json for the harness (the exit code alone says only pass/fail).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Mocha from 'mocha';

interface Outcome {
  title: string;
  state: 'passed' | 'failed' | 'pending';
  ms?: number;
  error?: string;
}

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, color: false, reporter: 'spec' });
  const files = readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort();
  for (const f of files) mocha.addFile(path.join(__dirname, f));
  const outcomes: Outcome[] = [];
  const resultsFile = path.join(__dirname, '..', 'suite-results.json');
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      mkdirSync(path.dirname(resultsFile), { recursive: true });
      writeFileSync(resultsFile, JSON.stringify({ files, failures, seconds: (Date.now() - started) / 1000, outcomes }, null, 1));
      if (failures > 0) reject(new Error(`${failures} extension-host test(s) failed`));
      else resolve();
    });
    runner.on('pass', (t) => outcomes.push({ title: t.fullTitle(), state: 'passed', ms: t.duration }));
    runner.on('fail', (t, err: Error) => outcomes.push({ title: t.fullTitle(), state: 'failed', error: err.stack ?? err.message }));
    runner.on('pending', (t) => outcomes.push({ title: t.fullTitle(), state: 'pending' }));
  });
}
