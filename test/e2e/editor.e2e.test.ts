/**
 * The editor experience in a real workbench (issue 14): "Cancel Analysis" offered only while an
 * analysis runs, a CodeLens run drawn in a side column (screenshots in a dark, a High Contrast
 * Light and a light theme at 1400×900, copied to media/ when LOSSCAPE_UPDATE_MEDIA=1), and the
 * panel reopened with its saved result after "Reload Window".
 */
import { strict as assert } from 'node:assert';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { harnessEnv, lastWebview, launchBrowser, pickQuickItem, quickOpen, runCommand, waitForWorkbench, workbenchUrl, type HarnessEnv } from './helpers/workbench';

describe('Losscape editor experience (code-server + Chromium)', function () {
  this.timeout(180_000);
  let env: HarnessEnv;
  let context: BrowserContext;
  let page: Page;
  const shot = async (name: string): Promise<void> => {
    const file = path.join(env.results, name);
    await page.screenshot({ path: file });
    if (process.env.LOSSCAPE_UPDATE_MEDIA === '1') copyFileSync(file, path.join(env.extensionPath, 'media', name));
  };
  const palette = page0();

  function page0(): { typed: (text: string) => Promise<void>; close: () => Promise<void> } {
    return {
      async typed(text: string) {
        await page.keyboard.press('F1');
        const input = page.locator('.quick-input-widget input');
        await input.waitFor({ state: 'visible', timeout: 10_000 });
        await input.fill(`>${text}`);
      },
      async close() {
        await page.keyboard.press('Escape');
        await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
      },
    };
  }

  /** Whether the palette lists "Losscape: Cancel Analysis" (once the list has rendered). */
  async function cancelOffered(expected: boolean): Promise<void> {
    await palette.typed('Losscape: Cancel Analysis');
    await page.locator('.quick-input-widget .monaco-list-row').first().waitFor({ state: 'visible', timeout: 20_000 });
    const rows = page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Losscape: Cancel Analysis' });
    if (expected) await rows.first().waitFor({ state: 'visible', timeout: 20_000 });
    else assert.equal(await rows.count(), 0, 'Cancel Analysis is offered while nothing runs');
    await palette.close();
  }

  /** Picks a colour theme with Ctrl+K Ctrl+T (the palette could rank "Browse Color Themes in Marketplace" first). */
  async function setTheme(label: string): Promise<void> {
    // Focus the editor (not the webview) by its tab; keeps the code scrolled where it is.
    await page.locator('.tab', { hasText: 'train.py' }).first().click();
    await page.keyboard.press('Control+K');
    await page.keyboard.press('Control+T');
    const input = page.locator('.quick-input-widget input');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Dark Modern' }).first().waitFor({ state: 'visible', timeout: 20_000 });
    await input.fill(label);
    const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: label }).first();
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    await row.click();
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
  }

  before(async () => {
    env = harnessEnv();
    context = await launchBrowser(env);
    page = await context.newPage();
    await page.goto(workbenchUrl(env));
    await waitForWorkbench(page);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await page.screenshot({ path: path.join(env.results, `e2e-editor-failure-${this.currentTest.title.replace(/\W+/g, '-').slice(0, 50)}.png`) }).catch(() => undefined);
  });

  after(async () => {
    await context?.close();
  });

  it('offers Cancel Analysis only while an analysis runs', async () => {
    // Activate the extension (the context key is set at activation) by opening a file with a loss.
    await quickOpen(page, 'train.py');
    await page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Loss landscape' }).first().waitFor({ state: 'visible', timeout: 60_000 });
    await cancelOffered(false);

    await runCommand(page, 'Losscape: Plot Loss Landscape (2D)');
    await pickQuickItem(page, 'tiny 2D fine');
    const toast = page.locator('.notification-toast', { hasText: 'tiny 2D fine' });
    await toast.filter({ hasText: /\d+ % · row \d+\/301/ }).waitFor({ state: 'visible', timeout: 90_000 });
    await cancelOffered(true);
    await runCommand(page, 'Losscape: Cancel Analysis');
    await page.locator('.notification-toast', { hasText: 'was cancelled' }).waitFor({ state: 'visible', timeout: 30_000 });
    await cancelOffered(false);
    await runCommand(page, 'Notifications: Clear All Notifications');
  });

  it('draws a CodeLens run in a side column, in a light, a dark and a High Contrast Light theme', async () => {
    await runCommand(page, 'View: Close All Editors');
    await quickOpen(page, 'train.py');
    // The last one: nn.CrossEntropyLoss() (the first, focal_loss, is a Python loss for PyTorch configurations).
    const lens = page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Loss landscape' }).last();
    await lens.waitFor({ state: 'visible', timeout: 60_000 });
    await lens.click();
    await pickQuickItem(page, 'tiny 2D');
    const view = lastWebview(page);
    await view.locator('svg path.lc-contour').first().waitFor({ state: 'attached', timeout: 90_000 });
    await page.locator('.tab', { hasText: 'tiny 2D · loss landscape 2D' }).waitFor({ state: 'visible', timeout: 30_000 });
    // The chart is in view in the side column: its top is within the window.
    const chartBox = await view.locator('svg.lc-chart').boundingBox();
    assert.ok(chartBox && chartBox.y < 450, `chart top at ${chartBox?.y}`);
    await runCommand(page, 'Notifications: Clear All Notifications');
    for (const [theme, cls, workbench, file] of [
      ['Dark Modern', 'vscode-dark', 'vs-dark', 'vscode-dark.png'],
      ['Light High Contrast', 'vscode-high-contrast-light', 'hc-light', 'vscode-hc-light.png'],
      ['Light Modern', 'vscode-light', 'vs', 'vscode-light.png'],
    ] as const) {
      await setTheme(theme);
      // The panel redraws its data colours on the body-class change; wait for the theme's class on the webview body.
      await view.locator(`body.${cls} svg path.lc-contour`).first().waitFor({ state: 'attached', timeout: 30_000 });
      await page.locator(`.monaco-workbench.${workbench}`).waitFor({ state: 'attached', timeout: 30_000 });
      await shot(file);
    }
  });

  it('reopens the panel with its saved result after Reload Window', async () => {
    await page.locator('.tab', { hasText: 'tiny 2D · loss landscape 2D' }).click();
    await runCommand(page, 'Developer: Reload Window');
    await page.waitForEvent('load', { timeout: 60_000 });
    await waitForWorkbench(page);
    await page.locator('.tab', { hasText: 'tiny 2D · loss landscape 2D' }).waitFor({ state: 'visible', timeout: 60_000 });
    await page.locator('.tab', { hasText: 'tiny 2D · loss landscape 2D' }).click();
    const contours = lastWebview(page).locator('svg path.lc-contour');
    await contours.first().waitFor({ state: 'attached', timeout: 60_000 });
    assert.ok((await contours.count()) >= 5);
    await page.screenshot({ path: path.join(env.results, 'e2e-restored-after-reload.png') });
  });
});
