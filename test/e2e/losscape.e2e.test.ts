/**
 * Browser end to end: Debian Chromium (playwright-core) against code-server with the packaged
 * extension installed. Opens the fixture workspace, sees the CodeLens on a loss, plots a 2D
 * landscape from the command palette, opens a result file, adds configurations with QuickPicks
 * (a landscape, and grokking over the fixture's checkpoint series, which it then runs);
 * screenshots go to test-results/.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, FrameLocator, Page } from 'playwright-core';
import { parseRunConfigurations } from '../../src/extension/config/runConfig';
import { harnessEnv, lastWebview, launchBrowser, pickQuickItem, quickOpen, runCommand, waitForWorkbench, workbenchUrl, type HarnessEnv } from './helpers/workbench';

async function waitForFile(dir: string, test: (name: string) => boolean, ms: number): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const hit = existsSync(dir) ? readdirSync(dir).find(test) : undefined;
    if (hit) {
      const file = path.join(dir, hit);
      try {
        if ((JSON.parse(readFileSync(file, 'utf8')) as { complete?: boolean }).complete === true) return file;
      } catch {
        // being written
      }
    }
    if (Date.now() > end) throw new Error(`no complete result in ${dir} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Checks the landscape chart in a webview: filled contours without NaN, and a colour bar. */
async function assertLandscapeChart(view: FrameLocator): Promise<number> {
  const contours = view.locator('svg path.lc-contour');
  await contours.first().waitFor({ state: 'attached', timeout: 90_000 });
  await view.locator('svg .lc-colorbar').first().waitFor({ state: 'visible', timeout: 30_000 });
  const paths = await contours.evaluateAll((els) => els.map((e) => e.getAttribute('d') ?? ''));
  assert.ok(paths.length >= 5, `only ${paths.length} contour paths`);
  assert.ok(paths.every((d) => d.length > 0 && !d.includes('NaN')), 'a contour path is empty or holds NaN');
  assert.ok((await view.locator('svg .lc-colorbar .tick').count()) >= 2, 'the colour bar has an axis');
  return paths.length;
}

describe('Losscape in VS Code (code-server + Chromium)', function () {
  this.timeout(180_000);
  let env: HarnessEnv;
  let context: BrowserContext;
  let page: Page;
  const cspErrors: string[] = [];
  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: path.join(env.results, name) });

  before(async () => {
    env = harnessEnv();
    context = await launchBrowser(env);
    page = await context.newPage();
    page.on('console', (m) => {
      if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspErrors.push(m.text());
    });
    context.on('page', (p) => p.on('console', (m) => /Content[- ]Security[- ]Policy/i.test(m.text()) && cspErrors.push(m.text())));
    await page.goto(workbenchUrl(env));
    await waitForWorkbench(page);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await shot(`e2e-failure-${this.currentTest.title.replace(/\W+/g, '-').slice(0, 60)}.png`).catch(() => undefined);
  });

  after(async () => {
    await context?.close();
  });

  it('shows the CodeLens above a loss in a Python file', async () => {
    await quickOpen(page, 'train.py');
    const lens = page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Loss landscape' });
    await lens.first().waitFor({ state: 'visible', timeout: 60_000 });
    // nn.CrossEntropyLoss() and focal_loss (a custom Python loss, run on the torch engine).
    const all = page.locator('.monaco-editor .codelens-decoration a');
    for (let i = 0; i < 300 && (await all.count()) < 8; i++) await page.waitForTimeout(100);
    assert.equal(await lens.count(), 2, 'a Loss landscape lens above nn.CrossEntropyLoss() and above def focal_loss');
    await page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Hessian' }).first().waitFor({ state: 'visible' });
    await shot('e2e-codelens.png');
  });

  it('plots a 2D loss landscape from the command palette', async () => {
    await runCommand(page, 'Losscape: Plot Loss Landscape (2D)');
    await pickQuickItem(page, 'tiny 2D');
    const file = await waitForFile(path.join(env.workspace, '.losscape'), (n) => n.startsWith('tiny-2d-landscape-2d-') && n.endsWith('.losscape.json'), 120_000);
    assert.ok(file.endsWith('.losscape.json'));
    const view = lastWebview(page);
    const n = await assertLandscapeChart(view);
    // The final result (21×21) redraws after the file is complete: wait for it to settle.
    await page.waitForTimeout(1000);
    console.log(`      ${n} contour paths`);
    await shot('e2e-landscape-2d.png');
  });

  it('shows progress (percentage, time left) with a Cancel button, and cancels', async () => {
    await runCommand(page, 'Losscape: Plot Loss Landscape (2D)');
    await pickQuickItem(page, 'tiny 2D fine');
    const toast = page.locator('.notification-toast', { hasText: 'tiny 2D fine' });
    await toast.filter({ hasText: /\d+ % · row \d+\/301 .* left/ }).waitFor({ state: 'visible', timeout: 90_000 });
    await lastWebview(page).locator('svg path.lc-contour').first().waitFor({ state: 'attached', timeout: 30_000 });
    await shot('e2e-progress.png');
    await toast.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.notification-toast', { hasText: 'was cancelled' }).waitFor({ state: 'visible', timeout: 30_000 });
    const dir = path.join(env.workspace, '.losscape');
    const partial = readdirSync(dir).find((n) => n.startsWith('tiny-2d-fine-') && n.endsWith('.losscape.json'));
    assert.ok(partial);
    const r = JSON.parse(readFileSync(path.join(dir, partial), 'utf8')) as { complete: boolean; result: { rowsDone: number } };
    assert.equal(r.complete, false);
    assert.ok(r.result.rowsDone > 0 && r.result.rowsDone < 301, `rows done: ${r.result.rowsDone}`);
    await shot('e2e-cancelled.png');
  });

  it('opens a result file in its panel', async () => {
    await runCommand(page, 'View: Close All Editors');
    await quickOpen(page, 'sample.losscape.json');
    await page.locator('.tab.active', { hasText: 'sample.losscape.json' }).waitFor({ state: 'visible', timeout: 30_000 });
    await assertLandscapeChart(lastWebview(page));
    await page.waitForTimeout(500);
    await shot('e2e-result-file.png');
  });

  it('exports the chart as SVG into the visible export folder, and says where', async () => {
    const target = path.join(env.workspace, 'losscape-exports');
    // Created on the first export.
    const list = (): string[] => (existsSync(target) ? readdirSync(target) : []);
    const before = new Set(list());
    await lastWebview(page).getByRole('button', { name: 'SVG', exact: true }).click();
    // code-server's save dialog is a quick input holding the suggested path: accept it.
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 30_000 });
    // The simple dialog fills in the folder first, then the suggested name.
    let value = '';
    for (let i = 0; i < 100 && !/\.svg$/.test(value); i++) {
      value = await input.inputValue();
      if (!/\.svg$/.test(value)) await page.waitForTimeout(100);
    }
    assert.match(value, /losscape-exports\/[a-z0-9.-]+\.svg$/, 'a visible folder, a name without spaces');
    await page.keyboard.press('Enter');
    const svg = await (async () => {
      for (let i = 0; i < 100; i++) {
        const added = list().find((n) => !before.has(n) && n.endsWith('.svg'));
        if (added) return path.join(target, added);
        await page.waitForTimeout(100);
      }
      throw new Error('no SVG written to results/');
    })();
    await page.locator('.notification-toast', { hasText: 'saved losscape-exports/' }).getByRole('button', { name: 'Reveal in Explorer' }).waitFor({ state: 'visible', timeout: 30_000 });
    const text = readFileSync(svg, 'utf8');
    assert.match(text, /^<\?xml|^<svg/);
    assert.ok(text.includes('lc-contour'));
  });

  it('adds a run configuration with QuickPicks', async () => {
    await runCommand(page, 'Losscape: Add Configuration…');
    // Five steps (analysis, model, data, loss, name), numbered as they come.
    await page.locator('.quick-input-widget .quick-input-title', { hasText: '(1/5): analysis' }).waitFor({ state: 'visible', timeout: 30_000 });
    await pickQuickItem(page, 'Loss landscape (1D)');
    await page.locator('.quick-input-widget .quick-input-title', { hasText: '(2/5): model' }).waitFor({ state: 'visible', timeout: 30_000 });
    await pickQuickItem(page, 'models/tiny/model.json');
    await pickQuickItem(page, 'data/tiny.npz');
    await pickQuickItem(page, 'categorical_crossentropy');
    await page.locator('.quick-input-widget .quick-input-title', { hasText: '(5/5): name' }).waitFor({ state: 'visible', timeout: 30_000 });
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill('added in e2e');
    await page.keyboard.press('Enter');
    const configFile = path.join(env.workspace, '.vscode', 'losscape.json');
    for (let i = 0; i < 100 && !readFileSync(configFile, 'utf8').includes('added in e2e'); i++) await page.waitForTimeout(100);
    const text = readFileSync(configFile, 'utf8');
    assert.ok(text.includes('// Models and data are generated'), 'the comments of losscape.json are kept');
    const { configurations } = parseRunConfigurations(text, configFile);
    // The configuration file opens in an editor once saved.
    await page.locator('.tab.active .label-name', { hasText: /^losscape\.json$/ }).waitFor({ state: 'visible', timeout: 30_000 });
    assert.deepEqual(
      configurations.find((c) => c.name === 'added in e2e'),
      { name: 'added in e2e', analysis: 'landscape', model: 'models/tiny/model.json', data: 'data/tiny.npz', loss: 'categorical_crossentropy', dims: 1, samples: 1024 },
    );
    await shot('e2e-add-configuration.png');
  });

  it('adds a grokking configuration over a checkpoint folder, and runs it from the palette', async () => {
    await runCommand(page, 'Losscape: Add Configuration…');
    await pickQuickItem(page, 'Grokking statistics');
    await pickQuickItem(page, '4 checkpoints, steps 0 … 30');
    await pickQuickItem(page, 'data/tiny.npz');
    await pickQuickItem(page, "From the model's training config");
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill('grokking in e2e');
    await page.keyboard.press('Enter');
    const configFile = path.join(env.workspace, '.vscode', 'losscape.json');
    for (let i = 0; i < 100 && !readFileSync(configFile, 'utf8').includes('grokking in e2e'); i++) await page.waitForTimeout(100);
    const { configurations } = parseRunConfigurations(readFileSync(configFile, 'utf8'), configFile);
    assert.deepEqual(
      configurations.find((c) => c.name === 'grokking in e2e'),
      { name: 'grokking in e2e', analysis: 'grokking', checkpoints: 'checkpoints', data: 'data/tiny.npz', samples: 1024 },
    );
    await runCommand(page, 'Losscape: Grokking Statistics');
    await pickQuickItem(page, 'grokking in e2e');
    await waitForFile(path.join(env.workspace, '.losscape'), (n) => n.startsWith('grokking-in-e2e-grokking-') && n.endsWith('.losscape.json'), 120_000);
    const lines = lastWebview(page).locator('svg g.lc-grokking-dashboard path');
    await lines.first().waitFor({ state: 'attached', timeout: 30_000 });
    await page.waitForTimeout(500);
    const d = await lines.evaluateAll((els) => els.map((e) => e.getAttribute('d') ?? ''));
    assert.ok(d.length >= 4, `only ${d.length} paths in the grokking dashboard`);
    assert.ok(d.every((x) => !x.includes('NaN')), 'a dashboard path holds NaN');
    await shot('e2e-grokking.png');
  });

  it('raised no Content-Security-Policy violation', () => {
    assert.deepEqual(cspErrors, []);
  });
});
