/**
 * The landscape panel in VS Code panel mode in a narrow side column (issue 14, item 7): the chart
 * above the fold (provenance collapsed below it), the surface turned by dragging with a loss axis
 * and a hover read-out, a log colour bar with inner ticks over less than a decade, a pressed
 * toggle that stands out in High Contrast Light, and the webview state kept for "Reload Window".
 *   npx mocha --no-config --require tsx/cjs --extension ts --timeout 120000 test/webview/landscapeLayout.test.ts
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { buildPanelHtml } from '../../src/shared/report';
import { parseResult, type ResultOf } from '../../src/shared/result';
import { bundleWebview, launchChromium, outDir, root } from './helpers/chromium';

declare global {
  interface Window {
    __posted: unknown[];
    __state: unknown;
  }
}

const NONCE = 'bGF5b3V0LXRlc3Qtbm9uY2UtMDA=';

function landscape(): ResultOf<'landscape'> {
  const file = path.join(root, 'test', 'fixtures', 'results', 'landscape-2d.losscape.json');
  const r = parseResult(JSON.parse(readFileSync(file, 'utf8')), file);
  if (r.kind !== 'landscape' || r.result.dims !== 2) throw new Error('the fixture is a 2D landscape');
  return r as ResultOf<'landscape'>;
}

/** The same grid squeezed into [1.56, 1.99]: less than a decade, where a log bar had only its end ticks. */
function narrowRange(r: ResultOf<'landscape'>): ResultOf<'landscape'> {
  if (r.result.dims !== 2) throw new Error('2D');
  const flat = r.result.loss.flat().filter((v): v is number => v !== null);
  const [lo, hi] = [Math.min(...flat), Math.max(...flat)];
  const map = (v: number | null): number | null => (v === null ? null : 1.56 + (0.43 * (v - lo)) / (hi - lo));
  return { ...r, result: { ...r.result, loss: r.result.loss.map((row) => row.map(map)), centerLoss: map(r.result.centerLoss) ?? 1.56 } };
}

const luminance = (rgb: string): number => {
  const [r, g, b] = (rgb.match(/\d+/g) ?? []).slice(0, 3).map((c) => {
    const v = Number(c) / 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const contrast = (a: string, b: string): number => {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
};

describe('landscape panel in a narrow side column (VS Code panel mode)', function () {
  this.timeout(120_000);
  let browser: Browser;
  let page: Page;

  before(async () => {
    mkdirSync(outDir, { recursive: true });
    const { js, css } = await bundleWebview();
    writeFileSync(path.join(outDir, 'webview.js'), js);
    writeFileSync(path.join(outDir, 'losscape.css'), css);
    const html = buildPanelHtml({ cspSource: 'file:', nonce: NONCE, scriptUri: './webview.js', styleUri: './losscape.css' });
    writeFileSync(path.join(outDir, 'panel-landscape-narrow.html'), html);
    browser = await launchChromium();
    // A side column of a 1400×900 window: about 480 px wide.
    page = await browser.newPage({ viewport: { width: 480, height: 800 } });
    await page.addInitScript({
      content: 'window.__posted = []; window.__state = undefined; window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), setState: (s) => { window.__state = s; } });',
    });
    await page.goto(pathToFileURL(path.join(outDir, 'panel-landscape-narrow.html')).href);
    await page.waitForFunction(() => window.__posted.length > 0);
  });

  after(async () => {
    await browser?.close();
  });

  const rendered = (n: number): Promise<unknown> =>
    page.waitForFunction((k) => window.__posted.filter((m) => typeof m === 'object' && m !== null && (m as { type?: string }).type === 'rendered').length >= k, n);

  it('shows the chart above the fold, provenance collapsed below it, and keeps the state for a reload', async () => {
    const restore = { key: 'config:file:///ws#tiny 2D', file: '/ws/.losscape/tiny-2d.losscape.json', title: 'tiny 2D · loss landscape 2D' };
    await page.evaluate(([r, s]) => window.postMessage({ type: 'show', result: r, title: s.title, restore: s }, '*'), [landscape(), restore] as const);
    await rendered(1);
    const box = await page.locator('svg.lc-chart').boundingBox();
    assert.ok(box && box.y < 200, `the chart starts at y = ${box?.y}`);
    assert.ok(box && box.y + box.height * 0.75 < 800, 'most of the chart is in view');
    const figureTop = await page.locator('.lc-figure').evaluate((e) => e.getBoundingClientRect().top);
    const provenanceTop = await page.locator('.lc-provenance').evaluate((e) => e.getBoundingClientRect().top);
    assert.ok(provenanceTop > figureTop, 'provenance below the figure');
    assert.equal(await page.locator('.lc-provenance').evaluate((e) => (e as HTMLDetailsElement).open), false, 'collapsed in a narrow column');
    assert.match((await page.locator('.lc-provenance > summary').textContent()) ?? '', /model\.json · .* samples · /);
    assert.deepEqual(await page.evaluate(() => window.__state), restore);
    await page.screenshot({ path: path.join(outDir, 'panel-landscape-side-column.png') });
  });

  it('turns the surface by dragging, with a loss axis and a hover read-out', async () => {
    await page.getByRole('button', { name: 'Surface', exact: true }).click();
    const axisTicks = page.locator('.lc-surface-loss-axis .tick');
    await axisTicks.first().waitFor({ state: 'attached' });
    assert.ok((await axisTicks.count()) >= 3, 'loss axis ticks');
    assert.equal(await page.locator('.lc-surface-loss-axis .lc-axis-label').textContent(), 'loss');
    const before = await page.locator('.lc-quad').first().getAttribute('d');
    const slider = page.locator('.lc-slider input');
    const az0 = Number(await slider.inputValue());
    const svg = await page.locator('svg.lc-chart').boundingBox();
    assert.ok(svg);
    const [cx, cy] = [svg.x + svg.width / 2, svg.y + svg.height / 2];
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx + 60, cy + 20, { steps: 4 });
    await page.mouse.up();
    await page.waitForFunction((d) => document.querySelector('.lc-quad')?.getAttribute('d') !== d, before);
    assert.equal(Number(await slider.inputValue()), az0 + 30, 'the slider follows the drag (0.5° per pixel)');
    // Hover a facet: α, β and the loss under the pointer.
    const quad = await page.locator('.lc-quad').last().boundingBox();
    assert.ok(quad);
    await page.mouse.move(quad.x + quad.width / 2, quad.y + quad.height / 2);
    const tip = page.locator('.lc-tooltip');
    await tip.waitFor({ state: 'visible' });
    assert.match((await tip.textContent()) ?? '', /α.*β.*loss/s);
    await page.screenshot({ path: path.join(outDir, 'panel-landscape-surface-narrow.png') });
    await page.getByRole('button', { name: 'Contour', exact: true }).click();
  });

  it('labels a log colour bar inside a range of less than a decade', async () => {
    await page.evaluate((r) => window.postMessage({ type: 'show', result: r, title: 'narrow range' }, '*'), narrowRange(landscape()));
    await rendered(2);
    await page.getByRole('button', { name: 'Log', exact: true }).click();
    await page.waitForFunction(() => /log colour scale/.test(document.querySelector('.lc-figure-subtitle')?.textContent ?? ''));
    const ticks = (await page.locator('.lc-axis-colorbar .tick text').allTextContents()).map(Number);
    assert.ok(ticks.length >= 3, `ticks: ${ticks.join(', ')}`);
    assert.ok(ticks.every((t) => t >= 1.56 - 1e-9 && t <= 1.99 + 1e-9), ticks.join(', '));
    assert.ok(ticks.some((t) => t > 1.57 && t < 1.98), 'an inner tick, not only the ends');
  });

  it('makes the pressed toggle stand out in High Contrast Light', async () => {
    await page.evaluate(() => {
      for (const [k, v] of Object.entries({ '--vscode-editor-foreground': '#292929', '--vscode-editor-background': '#ffffff', '--vscode-contrastBorder': '#0f4a85', '--vscode-contrastActiveBorder': '#006bbd' })) {
        document.documentElement.style.setProperty(k, v);
      }
      document.body.classList.add('vscode-high-contrast-light', 'vscode-high-contrast');
    });
    const style = (label: string) =>
      page.getByRole('button', { name: label, exact: true }).evaluate((b) => {
        const c = getComputedStyle(b);
        return { bg: c.backgroundColor, fg: c.color, pressed: b.getAttribute('aria-pressed') };
      });
    const pressed = await style('Log');
    const other = await style('Linear');
    assert.equal(pressed.pressed, 'true');
    assert.equal(other.pressed, 'false');
    const pageBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.ok(contrast(pressed.bg, pageBg) >= 7, `pressed ${pressed.bg} on page ${pageBg}`);
    assert.ok(contrast(pressed.fg, pressed.bg) >= 7, 'its label stays legible');
    assert.ok(contrast(other.bg === 'rgba(0, 0, 0, 0)' ? pageBg : other.bg, pageBg) < 1.5, 'the unpressed one is not filled');
    await page.locator('.lc-toolbar').screenshot({ path: path.join(outDir, 'panel-toolbar-hc-light.png') });
  });
});
