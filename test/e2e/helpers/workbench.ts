/**
 * Driving VS Code (code-server) in Debian Chromium with playwright-core, offline
 * (docs/testing-vscode.md). The harness (scripts/vscode-test.mjs) starts code-server and passes
 * where it is through the environment.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type FrameLocator, type Page } from 'playwright-core';

export interface HarnessEnv {
  /** http://127.0.0.1:PORT */
  url: string;
  workspace: string;
  /** The repository root (the extension, unpacked). */
  extensionPath: string;
  chromium: string;
  /** test-results/ */
  results: string;
}

export function harnessEnv(): HarnessEnv {
  const get = (name: string): string => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set: run this through scripts/vscode-test.mjs`);
    return v;
  };
  const results = get('LOSSCAPE_TEST_RESULTS');
  mkdirSync(results, { recursive: true });
  return {
    url: get('LOSSCAPE_CODE_SERVER_URL'),
    workspace: get('LOSSCAPE_WORKSPACE'),
    extensionPath: get('LOSSCAPE_EXTENSION_PATH'),
    chromium: process.env.LOSSCAPE_CHROMIUM ?? '/usr/bin/chromium',
    results,
  };
}

/** A fresh Chromium profile each time (launchPersistentContext: launch() refuses --user-data-dir). */
export async function launchBrowser(env: HarnessEnv): Promise<BrowserContext> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'lc-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: env.chromium,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  // Chromium may still be writing into its profile as the context closes (ENOTEMPTY): retry, and
  // never let a leftover temporary folder fail the run.
  context.on('close', () => {
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    } catch {
      // left in the temporary folder
    }
  });
  return context;
}

/** The workbench URL for a folder, optionally with the extension-development payload. */
export function workbenchUrl(env: HarnessEnv, payload?: [string, string][]): string {
  const u = new URL(env.url);
  u.searchParams.set('folder', env.workspace);
  if (payload) u.searchParams.set('payload', JSON.stringify(payload));
  return u.toString();
}

/** `vscode-remote://host:port/<abs path>`: how the workbench names server-side paths in the payload. */
export function remotePath(env: HarnessEnv, abs: string): string {
  return `vscode-remote://${new URL(env.url).host}${abs}`;
}

export async function waitForWorkbench(page: Page): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 });
  await page.locator('.statusbar').waitFor({ state: 'visible', timeout: 60_000 });
}

/** Runs a palette command by its title, e.g. "Losscape: Plot Loss Landscape (2D)". */
export async function runCommand(page: Page, title: string): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  const input = page.locator('.quick-input-widget input');
  // A quick input that is still closing (e.g. Add Configuration… just finished and an editor is
  // taking focus) can close the palette again as soon as it opens: wait for it, and retry.
  await widget.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill(`>${title}`, { timeout: 10_000 });
      await page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first().waitFor({ state: 'visible', timeout: 20_000 });
      break;
    } catch (err) {
      if (attempt >= 3) throw err;
      await page.keyboard.press('Escape');
      await page.waitForTimeout(500);
    }
  }
  await page.keyboard.press('Enter');
}

/** Picks an item of the open QuickPick by its label. */
export async function pickQuickItem(page: Page, label: string): Promise<void> {
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ state: 'visible', timeout: 30_000 });
  await row.click();
}

/** Opens a workspace file with Quick Open (Ctrl+P). */
export async function quickOpen(page: Page, name: string): Promise<void> {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(name);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: name }).first().waitFor({ state: 'visible', timeout: 30_000 });
  await page.keyboard.press('Enter');
}

/** The content frame of the last ready webview (two frames deep). */
export function lastWebview(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').last().frameLocator('#active-frame');
}
