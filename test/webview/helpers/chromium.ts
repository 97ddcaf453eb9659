/**
 * What every Chromium test of the webview shares: the webview bundled with esbuild's API (so a
 * test does not depend on the other entry points building), headless Chromium from
 * /usr/bin/chromium (scripts/setup-vscode.sh installs it), and pages that record CSP
 * violations and console errors so that each test can assert there were none.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { parseResult, type LosscapeResult, type ResultKind, type ResultOf } from '../../../src/shared/result';

declare global {
  interface Window {
    __violations: string[];
    __posted: unknown[];
  }
}

export const root = path.resolve(__dirname, '..', '..', '..');
export const outDir = path.join(root, 'test-results');
export const fixtures = path.join(root, 'test', 'fixtures', 'results');
export const chromeArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function loadResult(name: string): LosscapeResult {
  return parseResult(JSON.parse(readFileSync(path.join(fixtures, name), 'utf8')), name);
}

export function loadKind<K extends ResultKind>(name: string, kind: K): ResultOf<K> {
  const r = loadResult(name);
  if (r.kind !== kind) throw new Error(`${name} is a ${r.kind} result, not ${kind}`);
  return r as ResultOf<K>;
}

/** The webview's script (one IIFE) and stylesheet, as the extension and the report embed them. */
export async function bundleWebview(): Promise<{ js: string; css: string }> {
  mkdirSync(outDir, { recursive: true });
  const built = await esbuild.build({
    entryPoints: [path.join(root, 'webview', 'main.ts')],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    target: 'chrome114',
    logLevel: 'silent',
  });
  return { js: built.outputFiles[0].text, css: readFileSync(path.join(root, 'media', 'losscape.css'), 'utf8') };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: chromeArgs });
}

export function newContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 900 } });
}

export interface Watched {
  page: Page;
  errors: string[];
}

/**
 * Writes `html` to test-results/`file` and opens it in a new page of `context`.
 * `init` is script text, not a function: tsx's keepNames would wrap a function's inner closures
 * in an `__name` helper that does not exist in the page.
 */
export async function openHtml(context: BrowserContext, file: string, html: string, opts: { init?: string; width?: number } = {}): Promise<Watched> {
  const page = await context.newPage();
  if (opts.width) await page.setViewportSize({ width: opts.width, height: 900 });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  if (opts.init) await page.addInitScript({ content: opts.init });
  const target = path.join(outDir, file);
  writeFileSync(target, html);
  await page.goto(pathToFileURL(target).href);
  return { page, errors };
}

export async function assertClean(w: Watched): Promise<void> {
  assert.deepEqual(await w.page.evaluate(() => window.__violations), [], 'no CSP violations');
  assert.deepEqual(w.errors, [], 'no console errors');
}

/** Every attribute of every SVG element whose value matches `pattern` (NaN, Infinity by default). */
export function badAttributes(page: Page, pattern: RegExp = /NaN|Infinity/): Promise<string[]> {
  return page.evaluate((source) => {
    const bad = new RegExp(source);
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll('svg, svg *'))) {
      for (const a of Array.from(el.attributes)) if (bad.test(a.value)) out.push(`${el.tagName}[${a.name}]=${a.value.slice(0, 60)}`);
    }
    return out;
  }, pattern.source);
}
