/**
 * The scaling-law panel in headless Chromium, drawn by the report page from the fixture
 * (test/fixtures/results/scaling.losscape.json, a fit of test/fixtures/scaling/runs.csv with
 * the largest model held out). Run with
 *   npx mocha --no-config --require tsx/cjs --extension ts --timeout 120000 test/webview/scalingPanel.test.ts
 * Screenshot: test-results/panel-scaling.png.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { buildReportHtml } from '../../src/shared/report';
import { parseResult, type ResultOf } from '../../src/shared/result';
import { bundleWebview, launchChromium, outDir, root } from './helpers/chromium';

const NONCE = 'c2NhbGluZy1wYW5lbC10ZXN0LTAw';

describe('scaling-law panel in Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let html: string;
  const file = path.join(root, 'test/fixtures/results/scaling.losscape.json');
  const result = parseResult(JSON.parse(readFileSync(file, 'utf8')), file) as ResultOf<'scaling'>;
  const s = result.result;

  before(async () => {
    assert.equal(result.kind, 'scaling');
    mkdirSync(outDir, { recursive: true });
    const { js, css } = await bundleWebview();
    html = buildReportHtml([{ title: 'Chinchilla-like runs — scaling law', result }], js, css, { nonce: NONCE, generatedAt: '2025-01-15' });
    browser = await launchChromium();
  });
  after(async () => browser?.close());

  async function open(name: string): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.addInitScript(() => {
      window.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const target = path.join(outDir, name);
    writeFileSync(target, html);
    await page.goto(pathToFileURL(target).href);
    await page.waitForSelector('html[data-losscape-rendered="1"]');
    return { page, errors };
  }

  it('draws loss against tokens per size with bands, the held-out prediction, the iso-FLOP frontier and residuals', async () => {
    const { page, errors } = await open('panel-scaling.html');
    try {
      assert.equal(await page.locator('section.lc-section').getAttribute('data-kind'), 'scaling');
      const charts = page.locator('.lc-scaling .lc-xy');
      assert.equal(await charts.count(), 3);
      const titles = await page.locator('.lc-scaling .lc-xy > .lc-panel-title').allTextContents();
      assert.deepEqual(titles, ['Loss against tokens, per model size', 'Iso-FLOP curves', 'Residuals']);
      const first = charts.nth(0);
      // One fitted curve and one band per model size (the held-out size included).
      assert.equal(await first.locator('path.lc-scaling-fit').count(), s.curves.bySize.length);
      assert.equal(await first.locator('path.lc-scaling-fit-band').count(), s.curves.bySize.length);
      assert.equal(s.curves.bySize.length, 6);
      // Every row is a point: fitted filled, excluded (skipped, held out) hollow.
      assert.equal(await first.locator('circle.lc-xy-point').count(), s.rows.length + s.excluded.length);
      assert.equal(await first.locator('circle.lc-xy-point-hollow').count(), s.excluded.length);
      assert.equal(await first.locator('circle.lc-xy-point[data-status="holdout"]').count(), s.holdout!.rows.length);
      // Colours run with model size: the smallest and largest differ.
      const fills = await first.locator('circle.lc-xy-point:not(.lc-xy-point-hollow)').evaluateAll((cs) => [...new Set(cs.map((c) => `${c.getAttribute('data-n')}|${c.getAttribute('fill')}`))]);
      assert.equal(new Set(fills.map((f) => f.split('|')[1])).size, new Set(fills.map((f) => f.split('|')[0])).size, 'one colour per fitted size');
      // The held-out final row marked, its prediction with an interval bar and its error in the label.
      assert.equal(await first.locator('.lc-scaling-holdout-measured').count(), 1);
      const pred = first.locator('.lc-scaling-holdout');
      assert.equal(await pred.locator('line.lc-xy-interval').count(), 1);
      assert.match((await pred.locator('text').textContent()) ?? '', new RegExp(`ARE ${(100 * s.holdout!.absoluteRelativeError).toFixed(2)} %`));
      // Log–log axes: loss ticks in the data's range, tokens over decades.
      const iso = charts.nth(1);
      assert.equal(await iso.locator('path.lc-scaling-iso').count(), s.curves.isoFlop.length);
      assert.equal(await iso.locator('path.lc-scaling-frontier').count(), 1);
      assert.equal(await iso.locator('.lc-scaling-optimum').count(), s.computeOptimal!.points.length);
      const res = charts.nth(2);
      assert.equal(await res.locator('circle.lc-xy-point').count(), s.rows.length);
      assert.equal(await res.locator('line.lc-xy-hline').count(), 1);
      // Tables: parameters with intervals, predictions (held out first), compute-optimal allocation.
      const captions = await page.locator('.lc-tables caption').allTextContents();
      assert.equal(captions.length, 3);
      assert.match(captions[2], /Compute-optimal allocation: N_opt ∝ C\^0\.\d{3} \[/);
      const paramRows = await page.locator('.lc-tables table').first().locator('tbody tr').allTextContents();
      assert.deepEqual(paramRows.map((r) => r.match(/^[A-Za-z]+/)?.[0]), ['E', 'A', 'B', 'alpha', 'beta']);
      assert.match(await page.locator('.lc-meta').textContent() ?? '', /Held out.*largest model: ARE/);
      // Hover over the held-out prediction.
      const box = await pred.locator('path').boundingBox();
      assert.ok(box);
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      const tip = page.locator('.lc-tooltip');
      await tip.waitFor({ state: 'visible' });
      assert.match((await tip.textContent()) ?? '', /predicted L̂.*measured L/);
      await page.mouse.move(0, 0);
      const bad = await page.evaluate(() => Array.from(document.querySelectorAll('svg *')).flatMap((el) => Array.from(el.attributes).filter((a) => /NaN|Infinity|undefined/.test(a.value)).map((a) => `${el.tagName}[${a.name}]`)));
      assert.deepEqual(bad, []);
      assert.deepEqual(await page.evaluate(() => window.__violations), [], 'no CSP violations');
      assert.deepEqual(errors, [], 'no console errors');
      await page.locator('section.lc-section').screenshot({ path: path.join(outDir, 'panel-scaling.png') });
    } finally {
      await page.context().close();
    }
  });

  it('exports PNG, SVG and the rows and parameters as CSV', async () => {
    const { page } = await open('panel-scaling-export.html');
    const grab = async (label: string): Promise<{ name: string; data: Buffer }> => {
      const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.locator('.lc-button', { hasText: new RegExp(`^${label}$`) }).click()]);
      return { name: dl.suggestedFilename(), data: readFileSync(await dl.path()) };
    };
    try {
      // PNG first: Chromium holds a page's later automatic downloads (see panels.test.ts).
      const png = await grab('PNG');
      assert.deepEqual([...png.data.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
      assert.ok(png.data.length > 10_000);
      const svg = (await grab('SVG')).data.toString('utf8');
      const parsed = await page.evaluate((text) => {
        const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
        return { error: doc.querySelector('parsererror')?.textContent ?? null, bands: doc.querySelectorAll('path.lc-xy-band').length, hover: doc.querySelectorAll('.lc-hover-target').length };
      }, svg);
      assert.equal(parsed.error, null);
      assert.ok(parsed.bands >= s.curves.bySize.length);
      assert.equal(parsed.hover, 0);
      const rows = (await grab('Rows CSV')).data.toString('utf8').trim().split('\r\n');
      assert.equal(rows[0], 'run,N,D,C,loss,step,status,predicted,residual');
      assert.equal(rows.length - 1, s.rows.length + s.excluded.length);
      assert.equal(rows.filter((r) => r.includes(',holdout,')).length, s.holdout!.rows.length);
      const params = (await grab('Parameters CSV')).data.toString('utf8').trim().split('\r\n');
      assert.equal(params[0], 'row,E,A,B,alpha,beta');
      assert.equal(params.length - 1, 3 + (s.fit.bootstrap?.replicates ?? 0));
      assert.equal(Number(params[1].split(',')[4]), s.fit.params.alpha);
    } finally {
      await page.context().close();
    }
  });
});
