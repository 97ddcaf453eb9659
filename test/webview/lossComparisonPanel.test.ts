/**
 * The loss-comparison panel in real headless Chromium, drawn by the report page from a result
 * the engine computed (test/fixtures/results/loss-comparison.losscape.json: the demo MLP under
 * ce, gce:q=0.7 and zloss:a=1:b=2). Run with
 *   npx mocha --no-config --require tsx/cjs --extension ts --timeout 120000 test/webview/lossComparisonPanel.test.ts
 * Screenshot: test-results/panel-loss-comparison.png.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { buildReportHtml } from '../../src/shared/report';
import { parseResult, type ResultOf } from '../../src/shared/result';
import { formatValue, formatWithError } from '../../webview/charts/scales';
import { bundleWebview, launchChromium, outDir, root } from './helpers/chromium';

const NONCE = 'bG9zcy1jb21wYXJpc29uLW5vbmNl';
const fixture = path.join(root, 'test', 'fixtures', 'results', 'loss-comparison.losscape.json');

describe('loss-comparison panel in Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  const result = parseResult(JSON.parse(readFileSync(fixture, 'utf8')), 'loss-comparison.losscape.json') as ResultOf<'loss-comparison'>;
  const p = result.result;
  const SEC = 'section.lc-section';
  let bundle = '';
  let css = '';

  before(async () => {
    mkdirSync(outDir, { recursive: true });
    ({ js: bundle, css } = await bundleWebview());
    const html = buildReportHtml([{ title: 'Demo MLP — three losses', result }], bundle, css, { nonce: NONCE, title: 'Loss comparison test', generatedAt: '2025-01-15' });
    browser = await launchChromium();
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 900 } });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await page.addInitScript(() => {
      window.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const target = path.join(outDir, 'report-loss-comparison.html');
    writeFileSync(target, html);
    await page.goto(pathToFileURL(target).href);
    await page.waitForSelector('html[data-losscape-rendered="1"]');
  });

  after(async () => {
    await browser?.close();
  });

  it('draws the 1D landscapes of every loss on one chart, relative to L(θ) by default', async () => {
    assert.equal(await page.locator(`${SEC}`).getAttribute('data-kind'), 'loss-comparison');
    const chart = page.locator(`${SEC} .lc-dash-panel[data-panel="landscape1d"]`);
    assert.equal(await chart.locator('path.lc-series').count(), p.losses.length);
    assert.match((await page.locator(`${SEC} .lc-figure-subtitle`).textContent()) ?? '', /relative to each loss at θ/);
    // Relative curves pass through 1 at t = 0 (θ).
    const mid = Math.floor(p.t.length / 2);
    for (const e of p.losses) assert.ok(Math.abs((e.relative.landscape1d[mid] ?? NaN) - 1) < 1e-6, e.given);
  });

  it('draws the 2D landscapes as small multiples sharing their axes and one colour scale', async () => {
    const multiples = page.locator(`${SEC} .lc-small-multiple`);
    assert.equal(await multiples.count(), p.losses.length);
    assert.deepEqual(await multiples.evaluateAll((ms) => ms.map((m) => m.getAttribute('data-loss'))), p.losses.map((e) => e.given));
    const ticks = await multiples.evaluateAll((ms) => ms.map((m) => Array.from(m.querySelectorAll('.lc-axis-x .tick text, .lc-axis-y .tick text')).map((t) => t.textContent).join('|')));
    assert.ok(ticks[0].length > 0);
    for (const t of ticks) assert.equal(t, ticks[0], 'the same axes in every multiple');
    assert.equal(await page.locator(`${SEC} .lc-colorbar`).count(), 1, 'one colour scale for all');
    assert.ok((await multiples.first().locator('path').count()) > 3, 'contours drawn');
    const bad = await page.evaluate(() => Array.from(document.querySelectorAll('svg *')).flatMap((el) => Array.from(el.attributes).filter((a) => /NaN|Infinity|undefined/.test(a.value)).map((a) => `${el.tagName}[${a.name}]`)));
    assert.deepEqual(bad, []);
    await page.locator(SEC).screenshot({ path: path.join(outDir, 'panel-loss-comparison.png') });
  });

  it('draws a non-finite point of a 2D landscape as a gap and keeps its row', async () => {
    const withGap = structuredClone(result);
    const e = withGap.result.losses[0];
    const [r, c] = [Math.floor(withGap.result.y.length / 2) + 1, 1];
    e.landscape2d[r][c] = null;
    e.relative.landscape2d[r][c] = null;
    const html = buildReportHtml([{ title: 'gap', result: withGap }], bundle, css, { nonce: NONCE, title: 'gap', generatedAt: '2025-01-15' });
    const target = path.join(outDir, 'report-loss-comparison-gap.html');
    writeFileSync(target, html);
    const g = await page.context().newPage();
    try {
      await g.goto(pathToFileURL(target).href);
      await g.waitForSelector('html[data-losscape-rendered="1"]');
      const first = g.locator(`${SEC} .lc-small-multiple`).first();
      assert.equal(await first.locator('rect.lc-gap').count(), 1);
      assert.equal(await first.locator('.lc-pending-label').count(), 0, 'no row is dropped as pending');
      const [contours, plot] = await Promise.all([first.locator('.lc-contours').boundingBox(), first.locator('rect.lc-pending').boundingBox()]);
      assert.ok(contours && plot && contours.height / plot.height > 0.9, 'rows around the gap are contoured');
    } finally {
      await g.close();
    }
  });

  it('tables every loss, relative values by default and raw ones on request', async () => {
    const rows = page.locator(`${SEC} .lc-table tbody tr`);
    assert.equal(await rows.count(), p.losses.length);
    const cells = async (i: number): Promise<string[]> => rows.nth(i).locator('td').allTextContents();
    const gce = p.losses[1];
    let row = await cells(1);
    assert.equal(row[0], 'gce:q=0.7');
    assert.equal(row[1], formatValue(gce.loss));
    assert.equal(row[3], formatValue(gce.relative.gradNorm));
    assert.equal(row[4], formatValue(gce.relative.eigenvalues[0]));
    assert.equal(row[4 + gce.eigenvalues.length], formatWithError(gce.relative.trace.estimate, gce.relative.trace.stderr));
    assert.match((await page.locator(`${SEC} .lc-table caption`).textContent()) ?? '', /relative to each loss at θ/);
    assert.match((await rows.nth(1).locator('td').first().getAttribute('title')) ?? '', /Zhang & Sabuncu/);
    await page.locator(`${SEC} .lc-segmented[aria-label="Values"] button`, { hasText: 'Raw' }).click();
    row = await cells(1);
    assert.equal(row[3], formatValue(gce.gradNorm));
    assert.equal(row[4], formatValue(gce.eigenvalues[0]));
    assert.match((await page.locator(`${SEC} .lc-table caption`).textContent()) ?? '', /raw values/);
    assert.match((await page.locator(`${SEC} .lc-figure-subtitle`).textContent()) ?? '', /raw values/);
    await page.locator(`${SEC} .lc-segmented[aria-label="Values"] button`, { hasText: 'Relative' }).click();
  });

  it('exports the table as CSV with raw and relative rows', async () => {
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.locator(`${SEC} .lc-button`, { hasText: /^CSV$/ }).click()]);
    const csv = readFileSync(await dl.path(), 'utf8').trim().split('\r\n');
    assert.ok(csv[0].startsWith('loss,params,values,L,accuracy,gradNorm,lambda1'), csv[0]);
    assert.equal(csv.length, 1 + 2 * p.losses.length);
  });

  it('has no CSP violations or console errors', async () => {
    assert.deepEqual(await page.evaluate(() => window.__violations), []);
    assert.deepEqual(errors, []);
  });
});
