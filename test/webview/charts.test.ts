/**
 * Charts in real headless Chromium: the report page built by buildReportHtml from the fixture
 * results, and the VS Code panel mode with a stubbed acquireVsCodeApi. Run with
 *   npx mocha --no-config --require tsx/cjs --extension ts --timeout 120000 test/webview/charts.test.ts
 * The webview is bundled here with esbuild's API, so the test does not depend on the other
 * entry points building.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { buildPanelHtml, buildReportHtml, type ReportEntry } from '../../src/shared/report';
import type { LosscapeResult } from '../../src/shared/result';
import { WebviewToHostSchema } from '../../src/shared/webviewProtocol';
import { assertClean, badAttributes, bundleWebview, launchChromium, loadResult as load, newContext, openHtml, outDir, type Watched } from './helpers/chromium';

const NONCE = 'dGVzdC1ub25jZS10ZXN0LW5vbmNl';

/** A 101×101 landscape with ripples on a tilted bowl, for the render-time measurement. */
function bigLandscape(): LosscapeResult {
  const base = load('landscape-2d.losscape.json');
  if (base.kind !== 'landscape' || base.result.dims !== 2) throw new Error('fixture is not a 2D landscape');
  const n = 101;
  const ax = Array.from({ length: n }, (_, i) => -1 + (2 * i) / (n - 1));
  const loss = ax.map((b) => ax.map((a) => 0.35 + 1.2 * a * a + 0.5 * b * b + 0.3 * a * b + 0.08 * Math.sin(9 * a) * Math.cos(7 * b)));
  return { ...base, result: { ...base.result, x: ax, y: ax, loss, accuracy: null, rowsDone: n, path: undefined } };
}

describe('webview charts in Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let context: BrowserContext;
  let js: string;
  let css: string;

  before(async () => {
    ({ js, css } = await bundleWebview());
    browser = await launchChromium();
    context = await newContext(browser);
  });

  after(async () => {
    await context?.close();
    await browser?.close();
  });

  const open = (file: string, html: string, init?: string): Promise<Watched> => openHtml(context, file, html, { init });

  describe('report mode', () => {
    let w: Watched;
    const entries: ReportEntry[] = [
      { title: 'Quadratic bowl — 2D', result: load('landscape-2d.losscape.json') },
      { title: 'Quadratic bowl — cancelled after 7 rows', result: load('landscape-2d-partial.losscape.json') },
      { title: 'Along one direction — 1D', result: load('landscape-1d.losscape.json') },
    ];
    const s = (i: number): string => `section.lc-section:nth-of-type(${i + 1})`;

    before(async () => {
      const html = buildReportHtml(entries, js, css, { nonce: NONCE, title: 'Losscape chart test', generatedAt: '2025-01-15' });
      w = await open('report-landscape.html', html);
      await w.page.waitForSelector('html[data-losscape-rendered="3"]');
    });
    after(async () => {
      await w?.page.close();
    });

    it('renders one section per result', async () => {
      assert.equal(await w.page.locator('section.lc-section').count(), 3);
      assert.equal(await w.page.locator('.lc-report-header h1').textContent(), 'Losscape chart test');
      await w.page.screenshot({ path: path.join(outDir, 'report-landscape.png'), fullPage: true });
    });

    it('draws one contour path per level, a colour bar and ticked axes', async () => {
      const levels = await w.page.locator(`${s(0)} path.lc-contour`).evaluateAll((ps) => ps.map((p) => Number(p.getAttribute('data-level'))));
      // The levels are 20 thresholds below the grid maximum, so none is empty here.
      assert.deepEqual(levels, Array.from({ length: 20 }, (_, k) => k));
      assert.equal(await w.page.locator(`${s(0)} .lc-colorbar-bands rect`).count(), 20);
      assert.ok((await w.page.locator(`${s(0)} .lc-axis-colorbar .tick`).count()) >= 3, 'colour bar ticks');
      for (const axis of ['lc-axis-x', 'lc-axis-y']) {
        const ticks = await w.page.locator(`${s(0)} .${axis} .tick text`).allTextContents();
        assert.ok(ticks.length >= 3, `${axis} has ticks`);
        assert.ok(ticks.every((t) => t.trim() !== ''), `${axis} tick labels`);
      }
      assert.equal(await w.page.locator(`${s(0)} .lc-center`).count(), 1, 'centre marked');
      assert.equal(await w.page.locator(`${s(0)} .lc-path-point`).count(), 4, 'path overlay points');
      assert.deepEqual(await badAttributes(w.page), []);
    });

    it('switches to a log colour scale: different paths, still no NaN', async () => {
      const before = await w.page.locator(`${s(0)} path.lc-contour`).evaluateAll((ps) => ps.map((p) => p.getAttribute('d')));
      await w.page.locator(`${s(0)} .lc-segmented button`, { hasText: 'Log' }).click();
      const after = await w.page.locator(`${s(0)} path.lc-contour`).evaluateAll((ps) => ps.map((p) => p.getAttribute('d')));
      assert.equal(after.length, 20);
      assert.notDeepEqual(after, before);
      assert.match((await w.page.locator(`${s(0)} .lc-figure-subtitle`).textContent()) ?? '', /log colour scale/);
      assert.deepEqual(await badAttributes(w.page), []);
      await w.page.locator(`${s(0)} .lc-figure`).screenshot({ path: path.join(outDir, 'report-landscape-log.png') });
    });

    it('shows the surface view and rotates it', async () => {
      await w.page.locator(`${s(0)} .lc-segmented button`, { hasText: 'Surface' }).click();
      const quads = w.page.locator(`${s(0)} path.lc-quad`);
      assert.equal(await quads.count(), 400);
      const first = await quads.first().getAttribute('d');
      await w.page.locator(`${s(0)} .lc-figure`).screenshot({ path: path.join(outDir, 'report-surface.png') });
      await w.page.locator(`${s(0)} .lc-slider input`).fill('120');
      assert.notEqual(await quads.first().getAttribute('d'), first);
      assert.deepEqual(await badAttributes(w.page), []);
      await w.page.locator(`${s(0)} .lc-figure`).screenshot({ path: path.join(outDir, 'report-surface-rotated.png') });
      await w.page.locator(`${s(0)} .lc-segmented button`, { hasText: 'Contour' }).click();
      await w.page.locator(`${s(0)} .lc-segmented button`, { hasText: 'Linear' }).click();
      assert.equal(await w.page.locator(`${s(0)} path.lc-contour`).count(), 20);
    });

    it('draws the incomplete result from its computed rows only', async () => {
      const sec = s(1);
      assert.match((await w.page.locator(`${sec} .lc-badge`).textContent()) ?? '', /partial · 7 of 21 rows · cancelled/);
      // The fixture was cancelled: the label says so instead of "computing…".
      assert.match((await w.page.locator(`${sec} .lc-pending-label`).textContent()) ?? '', /^cancelled: 7 of 21 rows computed$/);
      assert.ok((await w.page.locator(`${sec} path.lc-contour`).count()) > 0);
      // Rows 0–6 span β ∈ [−1, −0.4]: 6/20 of the plot height.
      const [contours, plot] = await Promise.all([
        w.page.locator(`${sec} .lc-contours`).boundingBox(),
        w.page.locator(`${sec} rect.lc-pending`).boundingBox(),
      ]);
      assert.ok(contours && plot);
      assert.ok(Math.abs(contours.height / plot.height - 0.3) < 0.02, `contours cover ${contours.height / plot.height} of the height`);
      assert.ok(Math.abs(contours.y + contours.height - (plot.y + plot.height)) < 1, 'at the bottom (low β)');
    });

    it('draws non-finite points of finished rows as gaps and keeps their rows', async () => {
      const base = load('landscape-2d.losscape.json');
      assert.ok(base.kind === 'landscape' && base.result.dims === 2);
      const loss = base.result.loss.map((row) => [...row]);
      loss[4][6] = null; // the engine records a non-finite loss as null in a finished row
      loss[15][2] = null;
      const result = { ...base, result: { ...base.result, loss, rowsDone: loss.length } };
      const g = await open('report-gaps.html', buildReportHtml([{ title: 'gaps', result }], js, css, { nonce: NONCE, title: 'gaps', generatedAt: '2025-01-15' }));
      try {
        await g.page.waitForSelector('html[data-losscape-rendered="1"]');
        await g.page.locator('.lc-segmented button', { hasText: 'Contour' }).click();
        assert.equal(await g.page.locator('rect.lc-gap').count(), 2);
        assert.ok((await g.page.locator('path.lc-contour').count()) > 0, 'the other points are contoured');
        assert.equal(await g.page.locator('.lc-pending-label').count(), 0, 'every row is drawn: none is pending');
        // The contours span the whole plot height (rows with gaps are not dropped).
        const [contours, plot] = await Promise.all([g.page.locator('.lc-contours').boundingBox(), g.page.locator('rect.lc-pending').boundingBox()]);
        assert.ok(contours && plot && contours.height / plot.height > 0.9, 'rows with a gap are kept');
        // The surface keeps those rows too: only the 4 facets around each gap are left out.
        await g.page.locator('.lc-segmented button', { hasText: 'Surface' }).click();
        assert.equal(await g.page.locator('path.lc-quad').count(), 400 - 2 * 4);
        assert.deepEqual(await badAttributes(g.page), []);
        await assertClean(g);
      } finally {
        await g.page.close();
      }
    });

    it('draws the 1D line with one vertex per point', async () => {
      const d = (await w.page.locator(`${s(2)} path.lc-line-loss`).getAttribute('d')) ?? '';
      assert.equal((d.match(/[ML]/g) ?? []).length, 41);
      assert.equal((d.match(/M/g) ?? []).length, 1);
      assert.equal(await w.page.locator(`${s(2)} path.lc-line-accuracy`).count(), 1);
      assert.ok((await w.page.locator(`${s(2)} .lc-axis-y2 .tick`).count()) >= 3, 'accuracy axis');
      assert.ok((await w.page.locator(`${s(2)} .lc-axis-x .tick`).count()) >= 3);
      assert.equal(await w.page.locator(`${s(2)} .lc-center`).count(), 1);
      await w.page.locator(`${s(2)} .lc-segmented button`, { hasText: 'Log' }).click();
      const logD = (await w.page.locator(`${s(2)} path.lc-line-loss`).getAttribute('d')) ?? '';
      assert.notEqual(logD, d);
      assert.equal((logD.match(/[ML]/g) ?? []).length, 41);
      assert.deepEqual(await badAttributes(w.page), []);
      await w.page.locator(`${s(2)} .lc-figure`).screenshot({ path: path.join(outDir, 'report-1d-log.png') });
    });

    it('shows a hover read-out', async () => {
      const target = w.page.locator(`${s(0)} rect.lc-hover-target`);
      const plot = await target.boundingBox();
      assert.ok(plot);
      // hover() scrolls the plot into view first; the position is relative to the element.
      await target.hover({ position: { x: plot.width * 0.75, y: plot.height * 0.25 } });
      const tip = w.page.locator(`${s(0)} .lc-tooltip`);
      await tip.waitFor({ state: 'visible' });
      const text = (await tip.textContent()) ?? '';
      assert.match(text, /α0\.5/);
      assert.match(text, /β0\.5/);
      assert.match(text, /loss/);
      assert.match(text, /accuracy\d/);
      await w.page.locator(`${s(0)} .lc-figure`).screenshot({ path: path.join(outDir, 'report-hover.png') });
      await w.page.mouse.move(0, 0);
      await tip.waitFor({ state: 'hidden' });
    });

    it('exports parseable SVG, a PNG and CSV as downloads', async () => {
      const grab = async (sec: string, label: string): Promise<{ name: string; data: Buffer }> => {
        const [dl] = await Promise.all([w.page.waitForEvent('download'), w.page.locator(`${sec} .lc-button`, { hasText: label }).click()]);
        const file = await dl.path();
        return { name: dl.suggestedFilename(), data: readFileSync(file) };
      };
      // PNG first: its download starts asynchronously, and Chromium lets a page's first download
      // through even when it comes after the click's user activation has expired.
      const png = await grab(s(0), 'PNG');
      assert.match(png.name, /\.png$/);
      assert.deepEqual([...png.data.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      assert.ok(png.data.length > 10_000, 'a real image');
      writeFileSync(path.join(outDir, 'export-landscape.png'), png.data);

      const svg = await grab(s(0), 'SVG');
      // Sane names: lower case, hyphens, the dims once (the title says 2D already).
      assert.match(svg.name, /^quadratic-bowl-2d\.svg$/);
      const parsed = await w.page.evaluate((text) => {
        const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
        return {
          error: doc.querySelector('parsererror')?.textContent ?? null,
          root: doc.documentElement.namespaceURI,
          contours: doc.querySelectorAll('path.lc-contour').length,
          hover: doc.querySelectorAll('.lc-hover-target').length,
          tickFill: doc.querySelector('.lc-axis-x .tick text')?.getAttribute('fill') ?? null,
        };
      }, svg.data.toString('utf8'));
      assert.equal(parsed.error, null);
      assert.equal(parsed.root, 'http://www.w3.org/2000/svg');
      assert.equal(parsed.contours, 20);
      assert.equal(parsed.hover, 0, 'hover-only elements dropped');
      assert.match(parsed.tickFill ?? '', /^rgb/, 'computed colours inlined');
      writeFileSync(path.join(outDir, 'export-landscape.svg'), svg.data);

      const csv = (await grab(s(1), 'CSV')).data.toString('utf8').trim().split('\r\n');
      assert.equal(csv[0], 'alpha,beta,loss,accuracy');
      assert.equal(csv.length, 1 + 21 * 21);
      assert.match(csv[1], /^-1,-1,\d/);
      assert.equal(csv[csv.length - 1], '1,1,,', 'not computed: empty cells');

      const csv1 = (await grab(s(2), 'CSV')).data.toString('utf8').trim().split('\r\n');
      assert.equal(csv1[0], 't,loss,accuracy');
      assert.equal(csv1.length, 42);
      await assertClean(w);
    });

    it('has no CSP violations or console errors', async () => {
      await assertClean(w);
    });
  });

  it('renders a 101×101 grid (time recorded, not asserted)', async () => {
    const html = buildReportHtml([{ title: '101 × 101', result: bigLandscape() }], js, css, { nonce: NONCE });
    const w = await open('report-101.html', html);
    await w.page.waitForSelector('html[data-losscape-rendered="1"]');
    const ms = await w.page.locator('section.lc-section').getAttribute('data-render-ms');
    console.log(`      101×101 landscape rendered in ${ms} ms (first render, contour view)`);
    const n = await w.page.locator('path.lc-contour').count();
    assert.ok(n >= 19 && n <= 20, `${n} levels`);
    await w.page.locator('.lc-segmented button', { hasText: 'Surface' }).click();
    assert.ok((await w.page.locator('path.lc-quad').count()) > 2000);
    assert.deepEqual(await badAttributes(w.page), []);
    await assertClean(w);
    await w.page.close();
  });

  it('follows a dark VS Code theme', async () => {
    // VS Code sets the theme variables on <html> and a theme class on <body> before scripts run.
    const vars = {
      '--vscode-editor-foreground': '#cccccc',
      '--vscode-editor-background': '#1f1f1f',
      '--vscode-descriptionForeground': '#9d9d9d',
      '--vscode-charts-blue': '#3794ff',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-red': '#f14c4c',
      '--vscode-button-background': '#0078d4',
      '--vscode-button-secondaryBackground': '#313131',
      '--vscode-button-secondaryForeground': '#cccccc',
      '--vscode-panel-border': '#2b2b2b',
    };
    const init = `const v = ${JSON.stringify(vars)};
      new MutationObserver((_, o) => {
        if (!document.body) return;
        for (const k in v) document.documentElement.style.setProperty(k, v[k]);
        document.body.classList.add('vscode-dark');
        o.disconnect();
      }).observe(document, { childList: true, subtree: true });`;
    const entries = [
      { title: 'Dark theme — 2D', result: load('landscape-2d.losscape.json') },
      { title: 'Dark theme — 1D', result: load('landscape-1d.losscape.json') },
    ];
    const w = await open('report-dark.html', buildReportHtml(entries, js, css, { nonce: NONCE }), init);
    await w.page.waitForSelector('html[data-losscape-rendered="2"]');
    const colours = await w.page.evaluate(() => ({
      body: getComputedStyle(document.body).backgroundColor,
      tick: getComputedStyle(document.querySelector('.lc-axis-x .tick text') ?? document.body).fill,
      loss: document.querySelector('path.lc-line-loss')?.getAttribute('stroke'),
    }));
    assert.deepEqual(colours, { body: 'rgb(31, 31, 31)', tick: 'rgb(204, 204, 204)', loss: '#3794ff' });
    assert.deepEqual(await badAttributes(w.page), []);
    await w.page.screenshot({ path: path.join(outDir, 'report-dark.png'), fullPage: true });
    await assertClean(w);
    await w.page.close();
  });

  it('talks to the host in VS Code panel mode', async () => {
    const html = buildPanelHtml({ cspSource: 'file:', nonce: NONCE, scriptUri: './webview.js', styleUri: './losscape.css' });
    writeFileSync(path.join(outDir, 'webview.js'), js);
    writeFileSync(path.join(outDir, 'losscape.css'), css);
    const w = await open('panel.html', html, 'window.__posted = []; window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m) });');
    await w.page.waitForFunction(() => window.__posted.length > 0);
    assert.deepEqual(await w.page.evaluate(() => window.__posted), [{ type: 'ready' }]);

    const partial = load('landscape-2d-partial.losscape.json');
    const full = load('landscape-2d.losscape.json');
    for (const result of [partial, full]) {
      await w.page.evaluate((r) => window.postMessage({ type: 'show', result: r, title: 'Panel test' }, '*'), result);
      await w.page.waitForFunction(() => window.__posted.some((m) => typeof m === 'object' && m !== null && 'type' in m && m.type === 'rendered'));
    }
    await w.page.waitForFunction(() => window.__posted.filter((m) => typeof m === 'object' && m !== null && 'type' in m && m.type === 'rendered').length === 2);
    assert.equal(await w.page.locator('.lc-panel').count(), 1, 'updated in place');
    assert.equal(await w.page.locator('path.lc-contour').count(), 20);
    assert.match((await w.page.locator('.lc-badge').textContent()) ?? '', /complete/);

    await w.page.evaluate(() => window.postMessage({ type: 'status', text: 'Analysis cancelled', level: 'error' }, '*'));
    assert.equal(await w.page.locator('.lc-status').textContent(), 'Analysis cancelled');

    await w.page.locator('.lc-button', { hasText: 'SVG' }).click();
    await w.page.locator('.lc-button', { hasText: 'PNG' }).click();
    await w.page.locator('.lc-button', { hasText: 'CSV' }).click();
    await w.page.waitForFunction(() => window.__posted.filter((m) => typeof m === 'object' && m !== null && 'type' in m && m.type === 'export').length === 3);
    const posted = await w.page.evaluate(() => window.__posted);
    for (const m of posted) WebviewToHostSchema.parse(m);
    const kinds = posted.map((m) => WebviewToHostSchema.parse(m)).map((m) => (m.type === 'export' ? `${m.type}:${m.format}` : m.type));
    assert.deepEqual(kinds, ['ready', 'rendered', 'rendered', 'export:svg', 'export:png', 'export:csv']);
    const rendered = posted.map((m) => WebviewToHostSchema.parse(m)).filter((m) => m.type === 'rendered');
    for (const r of rendered) if (r.type === 'rendered') assert.equal(r.kind, 'landscape');
    const png = posted.map((m) => WebviewToHostSchema.parse(m)).find((m) => m.type === 'export' && m.format === 'png');
    assert.ok(png && png.type === 'export' && png.data.startsWith('data:image/png;base64,'));

    // A theme switch flips body classes; the panel redraws with high-contrast strokes.
    await w.page.evaluate(() => document.body.classList.add('vscode-high-contrast'));
    await w.page.waitForFunction(() => document.querySelector('path.lc-contour')?.getAttribute('stroke-opacity') === '0.85');
    await assertClean(w);
    await w.page.close();
  });
});
