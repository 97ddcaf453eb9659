import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { buildReportHtml } from '../../src/shared/report';
import { parseResult, type LosscapeResult } from '../../src/shared/result';
import type { Row } from './types';

/**
 * Time for the webview to draw an n×n landscape (contours + colour bar + axes) in headless
 * Chromium, as the panel reports it (`data-render-ms`, measured inside the page around the
 * render). Median of 5 page loads; 41×41 is the baseline of the ratio.
 */
function grid(n: number): LosscapeResult {
  const base = parseResult(JSON.parse(readFileSync('test/fixtures/results/landscape-2d.losscape.json', 'utf8')), 'fixture');
  if (base.kind !== 'landscape' || base.result.dims !== 2) throw new Error('fixture is not a 2D landscape');
  const ax = Array.from({ length: n }, (_, i) => -1 + (2 * i) / (n - 1));
  const loss = ax.map((b) => ax.map((a) => 0.35 + 1.2 * a * a + 0.5 * b * b + 0.3 * a * b + 0.08 * Math.sin(9 * a) * Math.cos(7 * b)));
  return { ...base, result: { ...base.result, x: ax, y: ax, loss, accuracy: null, rowsDone: n, path: undefined } };
}

export async function benchWebview(): Promise<Row[]> {
  const js = readFileSync('dist/webview.js', 'utf8');
  const css = readFileSync('media/losscape.css', 'utf8');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'losscape-bench-webview-'));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const rows: Row[] = [];
  try {
    const medians: Record<number, number> = {};
    for (const n of [41, 101]) {
      const file = path.join(dir, `grid-${n}.html`);
      writeFileSync(file, buildReportHtml([{ title: `${n}×${n}`, result: grid(n) }], js, css, { nonce: 'bench-nonce-0123456789abcdef' }));
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
        await page.goto(`file://${file}`);
        await page.waitForSelector('html[data-losscape-rendered="1"]');
        times.push(Number(await page.locator('section.lc-section').getAttribute('data-render-ms')));
        await page.close();
      }
      times.sort((a, b) => a - b);
      medians[n] = times[2] / 1000;
      rows.push({ name: `webview: draw a ${n}×${n} landscape (Chromium, median of 5)`, seconds: medians[n], note: `min ${times[0].toFixed(0)} ms, max ${times[4].toFixed(0)} ms` });
    }
    rows.push({ name: 'webview: 101×101 ÷ 41×41 draw time', seconds: medians[101], ratio: medians[101] / medians[41], note: 'baseline: the 41×41 row' });
  } finally {
    await browser.close();
  }
  return rows;
}
