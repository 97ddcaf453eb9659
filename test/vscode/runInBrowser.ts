/**
 * Runs the extension-host mocha suite inside code-server: the workbench reads
 * extensionDevelopmentPath / extensionTestsPath from the URL payload, runs the suite's run(),
 * and reports the exit code through window.codeAutomationExit (docs/testing-vscode.md).
 *
 *   LOSSCAPE_* environment from scripts/vscode-test.mjs; exit code = the suite's.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { harnessEnv, launchBrowser, remotePath, workbenchUrl } from '../e2e/helpers/workbench';

interface SuiteResults {
  failures: number;
  seconds: number;
  outcomes: { title: string; state: string; ms?: number; error?: string }[];
}

async function main(): Promise<number> {
  const env = harnessEnv();
  const suite = path.join(env.extensionPath, 'out', 'test', 'vscode', 'suite', 'index');
  const resultsFile = path.join(env.extensionPath, 'out', 'test', 'vscode', 'suite-results.json');
  const context = await launchBrowser(env);
  const page = await context.newPage();
  let exit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  await page.exposeFunction('codeAutomationLog', (level: string, message: string) => {
    // The suite's own report is printed at the end; live lines only for problems (or when asked).
    if (level === 'error' || level === 'warn' || process.env.LOSSCAPE_VERBOSE) console.log(`[workbench ${level}] ${message}`);
  });
  await page.exposeFunction('codeAutomationExit', (code: number) => exit(code));
  page.on('console', (m) => {
    if (m.type() === 'error' || process.env.LOSSCAPE_VERBOSE) console.log(`[console ${m.type()}] ${m.text().replace(/%c/g, '').slice(0, 2000)}`);
  });
  const limitMs = Number(process.env.LOSSCAPE_SUITE_TIMEOUT_MS ?? 300_000);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<number>((resolve) => (timer = setTimeout(() => resolve(124), limitMs)));
  await page.goto(
    workbenchUrl(env, [
      ['extensionDevelopmentPath', remotePath(env, env.extensionPath)],
      ['extensionTestsPath', remotePath(env, suite)],
    ]),
  );
  const code = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  if (code !== 0) await page.screenshot({ path: path.join(env.results, 'vscode-suite-failure.png') }).catch(() => undefined);
  await context.close();
  if (code === 124) console.error(`the extension-host suite did not finish within ${limitMs / 1000} s`);
  if (existsSync(resultsFile)) {
    const r = JSON.parse(readFileSync(resultsFile, 'utf8')) as SuiteResults;
    for (const o of r.outcomes) {
      const mark = o.state === 'passed' ? '✔' : o.state === 'failed' ? '✘' : '-';
      console.log(`  ${mark} ${o.title}${o.ms !== undefined ? ` (${o.ms} ms)` : ''}`);
      if (o.error) console.log(o.error.split('\n').map((l) => `      ${l}`).join('\n'));
    }
    console.log(`extension-host suite: ${r.outcomes.filter((o) => o.state === 'passed').length} passing, ${r.failures} failing, ${r.seconds.toFixed(1)} s`);
    if (r.failures > 0 && code === 0) return 1;
  } else {
    console.error('the extension-host suite wrote no results (did it start? see the log above)');
    return code === 0 ? 1 : code;
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
