/**
 * The grokking, trajectory, Hessian, sharpness and saliency panels in real headless Chromium,
 * drawn by the report page from the fixture results (each validated against ResultSchema),
 * plus the VS Code panel mode for in-place updates. Run with
 *   npx mocha --no-config --require tsx/cjs --extension ts --timeout 120000 test/webview/panels.test.ts
 * Screenshots go to test-results/panel-<kind>.png.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildPanelHtml, buildReportHtml, type ReportEntry } from '../../src/shared/report';
import type { LosscapeResult, ResultKind } from '../../src/shared/result';
import { WebviewToHostSchema } from '../../src/shared/webviewProtocol';
import { assertClean, badAttributes as badMatching, bundleWebview, fixtures, launchChromium, loadKind, loadResult as load, newContext, openHtml, outDir, type Watched } from './helpers/chromium';

const NONCE = 'cGFuZWxzLXRlc3Qtbm9uY2UtMDA=';

describe('result panels in Chromium', function () {
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

  const open = (file: string, html: string, init?: string, width?: number): Promise<Watched> => openHtml(context, file, html, { init, width });
  // These panels also must not print "undefined" into an attribute.
  const badAttributes = (page: Page): Promise<string[]> => badMatching(page, /NaN|Infinity|undefined/);

  /** Numbers of the tick labels of an axis (SI suffixes and exponents understood). */
  async function tickValues(page: Page, selector: string): Promise<number[]> {
    const texts = await page.locator(`${selector} .tick text`).allTextContents();
    return texts.map((t) => {
      const s = t.replace('−', '-').replace(/,/g, '').trim();
      const m = /^(-?[\d.]+(?:e[-+]?\d+)?)([kMGμm]?)$/.exec(s);
      if (!m) return NaN;
      const mult: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, m: 1e-3, μ: 1e-6 };
      return Number(m[1]) * mult[m[2]];
    });
  }

  const isOneTwoFive = (v: number): boolean => {
    if (v === 0) return true;
    const m = Math.abs(v) / Math.pow(10, Math.floor(Math.log10(Math.abs(v)) + 1e-9));
    return [1, 2, 5].some((k) => Math.abs(m - k) < 1e-6);
  };

  it('has a valid fixture for every result kind', () => {
    const kinds = new Set(readdirSync(fixtures).filter((f) => f.endsWith('.losscape.json')).map((f) => load(f).kind));
    for (const k of ['landscape', 'grokking', 'hessian', 'sharpness', 'saliency'] satisfies ResultKind[]) assert.ok(kinds.has(k), `a ${k} fixture`);
  });

  describe('report mode', () => {
    let w: Watched;
    const seed = loadKind('grokking-seed.losscape.json', 'grokking');
    const modadd = loadKind('grokking-modadd-partial.losscape.json', 'grokking');
    const hessian = loadKind('hessian.losscape.json', 'hessian');
    const sharpness = loadKind('sharpness.losscape.json', 'sharpness');
    const saliency = loadKind('saliency.losscape.json', 'saliency');
    const trajectory = loadKind('landscape-trajectory.losscape.json', 'landscape');
    const line = loadKind('landscape-trajectory-line.losscape.json', 'landscape');
    const entries: ReportEntry[] = [
      { title: 'Seed model, α = 1 — grokking', result: seed },
      { title: 'Modular addition — grokking (cancelled)', result: modadd },
      { title: 'MLP — Hessian spectrum', result: hessian },
      { title: 'MLP — sharpness', result: sharpness },
      { title: 'MLP — pruning saliency', result: saliency },
      { title: 'MNIST run — trajectory on the PCA plane', result: trajectory },
      { title: 'MNIST run — the line from step 0 to step 15000', result: line },
    ];
    const s = (i: number): string => `section.lc-section:nth-of-type(${i + 1})`;
    const [SEED, MODADD, HESSIAN, SHARPNESS, SALIENCY, TRAJECTORY, LINE] = entries.map((_, i) => s(i));

    let html = '';
    before(async () => {
      html = buildReportHtml(entries, js, css, { nonce: NONCE, title: 'Losscape panels test', generatedAt: '2025-01-15' });
      w = await open('report-panels.html', html);
      await w.page.waitForSelector(`html[data-losscape-rendered="${entries.length}"]`);
    });
    after(async () => {
      await w?.page.close();
    });

    it('renders every section with its kind', async () => {
      const kinds = await w.page.locator('section.lc-section').evaluateAll((ss) => ss.map((x) => x.getAttribute('data-kind')));
      assert.deepEqual(kinds, ['grokking', 'grokking', 'hessian', 'sharpness', 'saliency', 'landscape', 'landscape']);
      await w.page.screenshot({ path: path.join(outDir, 'report-panels.png'), fullPage: true });
    });

    it('grokking: aligned panels on one step axis, events and the delay marked', async () => {
      const p = seed.result;
      const panels = w.page.locator(`${SEED} .lc-grokking-dashboard .lc-dash-panel`);
      const ids = await panels.evaluateAll((ps) => ps.map((x) => x.getAttribute('data-panel')));
      assert.deepEqual(ids, ['loss', 'norm', 'distance', 'ntk-alignment', 'ntk-movement', 'ntk-rank', 'output-change', 'sharpness', 'seed-loss', 'seed-stats']);
      // One x axis, at the bottom; every plot area has the same left and right edges.
      assert.equal(await w.page.locator(`${SEED} .lc-grokking-dashboard .lc-axis-x`).count(), 1);
      const boxes = await w.page.locator(`${SEED} .lc-grokking-dashboard .lc-plot-bg`).evaluateAll((rs) => rs.map((r) => r.getBoundingClientRect()).map((b) => [Math.round(b.left), Math.round(b.right)]));
      assert.equal(boxes.length, ids.length);
      for (const b of boxes) assert.deepEqual(b, boxes[0], 'plots aligned');
      // Both events crossed: one rule per event per panel, labels above, the delay shaded.
      const crossed = p.events.filter((e) => e.step !== null).length;
      assert.equal(crossed, 2);
      assert.equal(await w.page.locator(`${SEED} .lc-grokking-dashboard line.lc-event`).count(), crossed * ids.length);
      assert.equal(await w.page.locator(`${SEED} .lc-grokking-dashboard .lc-event-label`).count(), crossed);
      assert.equal(await w.page.locator(`${SEED} .lc-grokking-dashboard rect.lc-band`).count(), ids.length);
      assert.match((await w.page.locator(`${SEED} .lc-band-label`).textContent()) ?? '', new RegExp(`grokking delay ${p.grokkingDelay?.toLocaleString('en-US')} steps`));
      // Losses on a true log axis ticked at 1, 2, 5 × 10^k; steps on a log axis (0 included).
      assert.equal(await w.page.locator(`${SEED} .lc-dash-panel[data-panel="loss"]`).getAttribute('data-y'), 'log');
      const lossTicks = await tickValues(w.page, `${SEED} .lc-dash-panel[data-panel="loss"] .lc-axis-y`);
      assert.ok(lossTicks.length >= 3 && lossTicks.every(isOneTwoFive), `loss ticks ${lossTicks}`);
      const stepTicks = await tickValues(w.page, `${SEED} .lc-grokking-dashboard .lc-axis-x`);
      assert.ok(stepTicks.includes(0) && stepTicks.includes(100) && stepTicks.includes(1000), `step ticks ${stepTicks}`);
      // λ_max against 2/η.
      assert.match((await w.page.locator(`${SEED} .lc-dash-panel[data-panel="sharpness"] .lc-hline text`).textContent()) ?? '', /2\/η = 4/);
      // Seed block: measured and predicted test loss, four statistics.
      assert.equal(await w.page.locator(`${SEED} .lc-dash-panel[data-panel="seed-loss"] path.lc-series`).count(), 2);
      assert.equal(await w.page.locator(`${SEED} .lc-dash-panel[data-panel="seed-stats"] path.lc-series`).count(), 4);
      assert.match((await w.page.locator(`${SEED} .lc-section-title`).first().textContent()) ?? '', /Seed model .*α = 1/);
      // Sweep: a delay point per run that grokked, a test and a train curve per run.
      const runs = p.sweep?.runs ?? [];
      const delays = runs.filter((r) => r.delay !== null).length;
      assert.equal(await w.page.locator(`${SEED} .lc-sweep-delay path.lc-series`).count(), 3);
      assert.equal(await w.page.locator(`${SEED} .lc-sweep-delay .lc-series-points`).first().locator('circle').count(), delays);
      assert.equal(await w.page.locator(`${SEED} .lc-sweep-runs path.lc-series`).count(), 2 * runs.length);
      assert.deepEqual(await badAttributes(w.page), []);
      await w.page.locator(SEED).screenshot({ path: path.join(outDir, 'panel-grokking.png') });
    });

    it('grokking: switches the step axis to linear', async () => {
      const d = (await w.page.locator(`${SEED} .lc-dash-panel[data-panel="loss"] path.lc-series`).first().getAttribute('d')) ?? '';
      await w.page.locator(`${SEED} .lc-segmented button`, { hasText: 'Linear' }).click();
      const after = (await w.page.locator(`${SEED} .lc-dash-panel[data-panel="loss"] path.lc-series`).first().getAttribute('d')) ?? '';
      assert.notEqual(after, d);
      assert.match((await w.page.locator(`${SEED} .lc-figure-subtitle`).first().textContent()) ?? '', /linear step axis/);
      assert.deepEqual(await badAttributes(w.page), []);
      await w.page.locator(`${SEED} .lc-segmented button`, { hasText: 'Log' }).click();
    });

    it('grokking: a partial classification run skips its missing checkpoints', async () => {
      const p = modadd.result;
      assert.match((await w.page.locator(`${MODADD} .lc-badge`).textContent()) ?? '', /partial · 29 of 41 checkpoints · cancelled/);
      const ids = await w.page.locator(`${MODADD} .lc-dash-panel`).evaluateAll((ps) => ps.map((x) => x.getAttribute('data-panel')));
      assert.deepEqual(ids, ['loss', 'accuracy', 'norm', 'distance', 'ntk-alignment', 'ntk-movement', 'ntk-rank', 'kl']);
      // The train loss has 29 values then nulls: one unbroken line of 29 vertices.
      const d = (await w.page.locator(`${MODADD} .lc-dash-panel[data-panel="loss"] path.lc-series`).first().getAttribute('d')) ?? '';
      assert.equal((d.match(/[ML]/g) ?? []).length, p.trainLoss.filter((v) => v !== null).length);
      assert.equal((d.match(/M/g) ?? []).length, 1);
      // The KL starts at the second checkpoint (null at the first).
      const kl = (await w.page.locator(`${MODADD} .lc-dash-panel[data-panel="kl"] path.lc-series`).getAttribute('d')) ?? '';
      assert.equal((kl.match(/[ML]/g) ?? []).length, (p.trajectoryKL ?? []).filter((v) => v !== null).length);
      // Accuracy on [0, 1] with percent read-outs; the four events that happened are ruled.
      const accTicks = await tickValues(w.page, `${MODADD} .lc-dash-panel[data-panel="accuracy"] .lc-axis-y`);
      assert.equal(Math.min(...accTicks), 0);
      assert.equal(Math.max(...accTicks), 1);
      const crossed = p.events.filter((e) => e.step !== null).length;
      assert.equal(await w.page.locator(`${MODADD} .lc-event-label`).count(), crossed);
      // Four layers: a thin line each in the distance panel, each in the legend.
      assert.equal(await w.page.locator(`${MODADD} .lc-dash-panel[data-panel="distance"] path.lc-series`).count(), p.layers.length + 1);
      assert.deepEqual(await badAttributes(w.page), []);
      await w.page.locator(MODADD).screenshot({ path: path.join(outDir, 'panel-grokking-partial.png') });
    });

    it('grokking: a hover read-out lists every series at one step', async () => {
      const target = w.page.locator(`${SEED} .lc-grokking-dashboard rect.lc-hover-target`);
      const box = await target.boundingBox();
      assert.ok(box);
      await target.hover({ position: { x: box.width * 0.7, y: 40 } });
      const tip = w.page.locator(`${SEED} .lc-tooltip`);
      await tip.waitFor({ state: 'visible' });
      const text = (await tip.textContent()) ?? '';
      for (const label of ['training step', 'train loss', 'test loss', 'NTK alignment', 'λ_max', 'predicted test loss']) assert.ok(text.includes(label), `${label} in ${text}`);
      assert.equal(await w.page.locator(`${SEED} .lc-grokking-dashboard line.lc-hover-rule:not([display])`).count(), 10);
      await w.page.mouse.move(0, 0);
      await tip.waitFor({ state: 'hidden' });
    });

    it('hessian: eigenvalues with residuals, density on a log axis, per-layer bars', async () => {
      const p = hessian.result;
      assert.equal(await w.page.locator(`${HESSIAN} .lc-stem`).count(), p.eigenvalues.length + (p.bottom?.eigenvalues.length ?? 0));
      assert.equal(await w.page.locator(`${HESSIAN} .lc-stem-bottom`).count(), p.bottom?.eigenvalues.length ?? 0);
      assert.equal(await w.page.locator(`${HESSIAN} .lc-eigen-chart .lc-error-bar`).count(), p.eigenvalues.length + (p.bottom?.eigenvalues.length ?? 0));
      // Density: one path per curve, no NaN, a log axis ticked in whole decades (or 1-2-5).
      const dens = (await w.page.locator(`${HESSIAN} path.lc-density-line`).getAttribute('d')) ?? '';
      assert.equal((dens.match(/[ML]/g) ?? []).length, p.density?.x.length);
      assert.ok(!/NaN|Infinity/.test(dens));
      assert.ok(!/NaN|Infinity/.test((await w.page.locator(`${HESSIAN} path.lc-density-area`).getAttribute('d')) ?? ''));
      const dTicks = await tickValues(w.page, `${HESSIAN} .lc-density-chart .lc-axis-y`);
      assert.ok(dTicks.length >= 3 && dTicks.every((v) => v > 0 && isOneTwoFive(v)), `density ticks ${dTicks}`);
      assert.ok(Math.max(...dTicks) / Math.min(...dTicks) >= 1e3, 'spans decades');
      const rug = (p.density?.nodes ?? []).flat().length;
      assert.equal(await w.page.locator(`${HESSIAN} .lc-rug line`).count(), rug);
      // Per layer: top eigenvalue, trace ± stderr, diagonal mean ± stderr — a bar per layer each.
      const charts = w.page.locator(`${HESSIAN} .lc-bar-chart`);
      assert.equal(await charts.count(), 3);
      for (let i = 0; i < 3; i++) assert.equal(await charts.nth(i).locator('rect.lc-bar').count(), p.layers?.length);
      assert.equal(await charts.nth(1).locator('.lc-error-bar').count(), p.layers?.length, 'trace stderr bars');
      // The Hutchinson running mean with its band, and the header: trace ± stderr, H·v step.
      assert.equal(await w.page.locator(`${HESSIAN} .lc-series-band`).count(), 1);
      const header = (await w.page.locator(`${HESSIAN} .lc-provenance`).textContent()) ?? '';
      assert.match(header, /Trace\s*\d+(\.\d+)? ± \d+/);
      assert.match(header, /H·v step\s*δ = 0\.003 · error max 0\.0027, median 4\.1e-4/);
      assert.match(header, /Lanczos · k = 8 · 36 iterations · 44 products · converged/);
      assert.equal(await w.page.locator(`${HESSIAN} .lc-table`).first().locator('tbody tr').count(), p.eigenvalues.length + (p.bottom?.eigenvalues.length ?? 0));
      assert.deepEqual(await badAttributes(w.page), []);
      await w.page.locator(HESSIAN).screenshot({ path: path.join(outDir, 'panel-hessian.png') });
    });

    it('hessian: a log eigenvalue axis turns symlog with negative eigenvalues', async () => {
      await w.page.locator(`${HESSIAN} .lc-segmented button`, { hasText: 'Log' }).click();
      const ticks = await tickValues(w.page, `${HESSIAN} .lc-eigen-chart .lc-axis-y`);
      assert.ok(ticks.includes(0) && ticks.some((v) => v < 0) && ticks.every(isOneTwoFive), `symlog ticks ${ticks}`);
      assert.deepEqual(await badAttributes(w.page), []);
      await w.page.locator(`${HESSIAN} .lc-segmented button`, { hasText: 'Linear' }).click();
    });

    it('sharpness: a table of every measure and the loss increase against ρ', async () => {
      const p = sharpness.result;
      const rows = w.page.locator(`${SHARPNESS} .lc-table tbody tr`);
      // One row per radius: SAM and ASAM show first order and ascent side by side.
      const expected = p.sam.length + (p.asam?.length ?? 0) + (p.keskar ? 1 : 0) + p.averageCase.length;
      assert.equal(await rows.count(), expected);
      const first = await rows.first().locator('td').allTextContents();
      assert.deepEqual(first.slice(0, 4), ['SAM', 'ρ = 0.01', '9.51e-4', '0.002656']);
      // Definitions on hover of the measure.
      assert.match((await rows.first().locator('td').first().getAttribute('title')) ?? '', /Foret/);
      const avg = (await rows.last().locator('td').nth(3).textContent()) ?? '';
      assert.match(avg, /^\S+ ± \S+$/);
      // SAM chart: ascent, first order and the average case (with error bars); ASAM beside it.
      const sam = w.page.locator(`${SHARPNESS} .lc-dash-panel[data-panel="sam"]`);
      assert.equal(await sam.locator('path.lc-series').count(), 3);
      assert.equal(await sam.locator('.lc-series-points').nth(0).locator('circle').count(), p.sam.length);
      assert.equal(await sam.locator('.lc-error-bar').count(), p.averageCase.length);
      assert.equal(await w.page.locator(`${SHARPNESS} .lc-dash-panel[data-panel="asam"] path.lc-series`).count(), 2);
      const xt = await tickValues(w.page, `${SHARPNESS} .lc-sharpness .lc-cell:first-child .lc-axis-x`);
      assert.ok(xt.length >= 3 && xt.every(isOneTwoFive), `ρ on a log axis: ${xt}`);
      assert.deepEqual(await badAttributes(w.page), []);
      await w.page.locator(SHARPNESS).screenshot({ path: path.join(outDir, 'panel-sharpness.png') });
    });

    it('saliency: bars per layer, pruned shares by sparsity, the top parameters', async () => {
      const p = saliency.result;
      const charts = w.page.locator(`${SALIENCY} .lc-bar-chart`);
      assert.equal(await charts.count(), 2);
      for (let i = 0; i < 2; i++) assert.equal(await charts.nth(i).locator('rect.lc-bar').count(), p.layers.length);
      assert.equal(await charts.nth(0).locator('.lc-bar-range').count(), p.layers.length);
      const widths = (): Promise<string[]> => charts.nth(1).locator('rect.lc-bar').evaluateAll((rs) => rs.map((r) => r.getAttribute('width') ?? ''));
      const before = await widths();
      await w.page.locator(`${SALIENCY} .lc-segmented button`, { hasText: /^99\s%$/ }).click();
      assert.notDeepEqual(await widths(), before);
      assert.match((await charts.nth(1).locator('.lc-reference text').textContent()) ?? '', /global 99\s%/);
      await w.page.locator(`${SALIENCY} .lc-segmented button`, { hasText: /^90\s%$/ }).click();
      const tables = w.page.locator(`${SALIENCY} .lc-table`);
      assert.equal(await tables.count(), 2);
      assert.equal(await tables.nth(0).locator('tbody tr').count(), p.mostSalient.length);
      assert.equal(await tables.nth(1).locator('tbody tr').count(), p.leastSalient.length);
      assert.equal(await w.page.locator(`${SALIENCY} .lc-dash-panel[data-panel="thresholds"] .lc-series-points circle`).count(), p.thresholds.length);
      assert.deepEqual(await badAttributes(w.page), []);
      await w.page.locator(SALIENCY).screenshot({ path: path.join(outDir, 'panel-saliency.png') });
    });

    it('trajectory: the path on the PCA plane, explained variance, distances off the plane', async () => {
      const p = trajectory.result;
      assert.equal(p.dims, 2);
      const t = p.trajectory;
      assert.ok(t && p.dims === 2 && p.path);
      const points = w.page.locator(`${TRAJECTORY} .lc-path-point`);
      assert.equal(await points.count(), p.path.length);
      const labels = await w.page.locator(`${TRAJECTORY} .lc-path-point text`).allTextContents();
      assert.ok(labels.length >= 2 && labels.length < p.path.length, `${labels.length} labels drawn`);
      assert.equal(labels[0], p.path[0].label);
      assert.equal(labels[labels.length - 1], p.path[p.path.length - 1].label);
      // Labels drawn do not overlap.
      const rects = await w.page.locator(`${TRAJECTORY} .lc-path-point text`).evaluateAll((ts) => ts.map((x) => x.getBoundingClientRect()).map((b) => [b.left, b.top, b.right, b.bottom]));
      for (let i = 0; i < rects.length; i++)
        for (let j = i + 1; j < rects.length; j++) {
          const [a, b] = [rects[i], rects[j]];
          assert.ok(a[2] <= b[0] || b[2] <= a[0] || a[3] <= b[1] || b[3] <= a[1], `labels ${i} and ${j} overlap`);
        }
      const axisLabels = (await w.page.locator(`${TRAJECTORY} .lc-contour-chart .lc-axis-label`).allTextContents()).map((t) => t.replace(/\u00a0/g, ' '));
      assert.deepEqual(axisLabels, ['PC1 (71.2 % of variance)', 'PC2 (18.4 %)']);
      assert.match((await w.page.locator(`${TRAJECTORY} .lc-provenance`).textContent()) ?? '', /PCA of 16 checkpoints · explained variance 71\.2\s% \+ 18\.4\s% = 89\.6\s%/);
      const dist = w.page.locator(`${TRAJECTORY} .lc-trajectory .lc-dash-panel`);
      assert.equal(await dist.count(), 2);
      assert.equal(await dist.first().locator('.lc-series-points').nth(1).locator('circle').count(), t.offPlane.length);
      assert.deepEqual(await badAttributes(w.page), []);
      await w.page.locator(TRAJECTORY).screenshot({ path: path.join(outDir, 'panel-trajectory.png') });
    });

    it('trajectory: the line between two checkpoints and how far the others lie off it', async () => {
      const p = line.result;
      assert.ok(p.dims === 1 && p.trajectory);
      assert.equal(await w.page.locator(`${LINE} path.lc-line-loss`).count(), 1);
      const panels = w.page.locator(`${LINE} .lc-trajectory .lc-dash-panel`);
      assert.equal(await panels.count(), 2);
      assert.equal(await w.page.locator(`${LINE} .lc-trajectory .lc-event-label`).count(), 2, 'both anchors');
      assert.match((await w.page.locator(`${LINE} .lc-trajectory .lc-legend`).first().textContent()) ?? '', /residual off the line/);
      assert.match((await w.page.locator(`${LINE} .lc-provenance`).textContent()) ?? '', /line through steps 0, 15,000 · 16 checkpoints/);
      assert.deepEqual(await badAttributes(w.page), []);
      await w.page.locator(LINE).screenshot({ path: path.join(outDir, 'panel-trajectory-line.png') });
    });

    it('exports parseable SVG, PNG and CSV for every panel', async function () {
      // PNG export finishes asynchronously (the SVG is rasterised first); when that outlasts the
      // click's user activation, Chromium counts it as an automatic download and, after another
      // download from the same page, holds it for a permission no one answers in headless mode.
      // So each kind gets a fresh page, and its PNG is the first download there.
      this.timeout(300_000);
      const grab = async (page: Page, sec: string, label: string): Promise<{ name: string; data: Buffer }> => {
        const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.locator(`${sec} .lc-button`, { hasText: new RegExp(`^${label}$`) }).click()]);
        return { name: dl.suggestedFilename(), data: readFileSync(await dl.path()) };
      };
      const cases: [string, string, Record<string, string>][] = [
        [SEED, 'grokking', { CSV: 'step,checkpoint,trainLoss,testLoss,paramNorm', 'Sweep CSV': 'alpha,label,step,trainLoss,testLoss' }],
        [HESSIAN, 'hessian', { CSV: 'which,rank,eigenvalue,residual', 'Density CSV': 'lambda,density', 'Layers CSV': 'layer,size,topEigenvalue', 'Trace CSV': 'probe,sample' }],
        [SHARPNESS, 'sharpness', { CSV: 'measure,parameter,radius,eta,value,stderr,stepsOrDraws' }],
        [SALIENCY, 'saliency', { CSV: 'layer,size,sum,mean,median,min,max,pruned@0.5', 'Top CSV': 'which,rank,index,variable,position,weight,saliency' }],
        [TRAJECTORY, 'trajectory', { 'Checkpoints CSV': 'step,checkpoint,alpha,beta,distance,offPlane' }],
      ];
      for (const [sec, kind, csvs] of cases) {
        const fresh = await open(`report-panels-export-${kind}.html`, html);
        const page = fresh.page;
        try {
          await page.waitForSelector(`html[data-losscape-rendered="${entries.length}"]`);
          const png = await grab(page, sec, 'PNG');
          assert.deepEqual([...png.data.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
          assert.ok(png.data.length > 10_000, `${kind}: a real image`);
          const svg = await grab(page, sec, 'SVG');
          assert.match(svg.name, /\.svg$/);
          const parsed = await page.evaluate((text) => {
            const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
            return {
              error: doc.querySelector('parsererror')?.textContent ?? null,
              root: doc.documentElement.namespaceURI,
              hover: doc.querySelectorAll('.lc-hover-target, .lc-hover-rule, .lc-hover-dot').length,
              paths: doc.querySelectorAll('path').length,
              nan: /NaN|Infinity/.test(text),
            };
          }, svg.data.toString('utf8'));
          assert.equal(parsed.error, null, `${kind} SVG parses`);
          assert.equal(parsed.root, 'http://www.w3.org/2000/svg');
          assert.equal(parsed.hover, 0, 'hover-only elements dropped');
          assert.ok(parsed.paths > 5);
          assert.equal(parsed.nan, false);
          writeFileSync(path.join(outDir, `export-${kind}.svg`), svg.data);
          for (const [label, header] of Object.entries(csvs)) {
            const csv = (await grab(page, sec, label)).data.toString('utf8').split('\r\n');
            assert.ok(csv[0].startsWith(header), `${kind} ${label}: ${csv[0]}`);
            assert.ok(csv.length > 2, `${kind} ${label} has rows`);
            const width = csv[0].split(',').length;
            for (const line of csv.slice(1).filter(Boolean)) if (!line.includes('"')) assert.equal(line.split(',').length, width, `${kind} ${label}: ${line}`);
          }
          if (kind === 'grokking') {
            const grokCsv = (await grab(page, SEED, 'CSV')).data.toString('utf8').trim().split('\r\n');
            assert.equal(grokCsv.length, 1 + seed.result.steps.length);
          }
          await assertClean(fresh);
        } finally {
          await page.close();
        }
      }
    });

    it('has no CSP violations or console errors', async () => {
      await assertClean(w);
    });
  });

  it('lays out for a narrow editor column', async () => {
    const entries = ['grokking-seed', 'hessian', 'sharpness', 'saliency', 'landscape-trajectory'].map((f) => ({ title: f, result: load(`${f}.losscape.json`) }));
    const w = await open('report-panels-narrow.html', buildReportHtml(entries, js, css, { nonce: NONCE }), undefined, 560);
    await w.page.waitForSelector('html[data-losscape-rendered="5"]');
    // One chart per row: every cell starts at the left edge.
    const xs = await w.page.locator('.lc-cell').evaluateAll((cs) => cs.map((c) => c.getAttribute('transform') ?? ''));
    assert.ok(xs.length > 0 && xs.every((t) => /^translate\(0,/.test(t)), xs.join(' '));
    // Nothing wider than the page.
    const overflow = await w.page.evaluate(() => Array.from(document.querySelectorAll('svg.lc-chart')).map((s) => s.getBoundingClientRect().width).filter((x) => x > 560));
    assert.deepEqual(overflow, []);
    assert.deepEqual(await badAttributes(w.page), []);
    await w.page.locator('section.lc-section').nth(1).screenshot({ path: path.join(outDir, 'panel-hessian-narrow.png') });
    await assertClean(w);
    await w.page.close();
  });

  it('follows a dark VS Code theme', async () => {
    const vars = {
      '--vscode-editor-foreground': '#cccccc',
      '--vscode-editor-background': '#1f1f1f',
      '--vscode-descriptionForeground': '#9d9d9d',
      '--vscode-charts-blue': '#3794ff',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-red': '#f14c4c',
      '--vscode-charts-green': '#89d185',
      '--vscode-charts-purple': '#b180d7',
      '--vscode-charts-yellow': '#cca700',
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
      { title: 'Dark — grokking', result: load('grokking-seed.losscape.json') },
      { title: 'Dark — Hessian', result: load('hessian.losscape.json') },
    ];
    const w = await open('report-panels-dark.html', buildReportHtml(entries, js, css, { nonce: NONCE }), init);
    await w.page.waitForSelector('html[data-losscape-rendered="2"]');
    const colours = await w.page.evaluate(() => ({
      body: getComputedStyle(document.body).backgroundColor,
      title: getComputedStyle(document.querySelector('.lc-panel-title') ?? document.body).fill,
      ntk: document.querySelector('.lc-dash-panel[data-panel="ntk-alignment"] path.lc-series')?.getAttribute('stroke'),
    }));
    assert.deepEqual(colours, { body: 'rgb(31, 31, 31)', title: 'rgb(204, 204, 204)', ntk: '#89d185' });
    assert.deepEqual(await badAttributes(w.page), []);
    await w.page.locator('section.lc-section').first().screenshot({ path: path.join(outDir, 'panel-grokking-dark.png') });
    await w.page.locator('section.lc-section').nth(1).screenshot({ path: path.join(outDir, 'panel-hessian-dark.png') });
    await assertClean(w);
    await w.page.close();
  });

  it('updates a grokking panel in place in VS Code panel mode', async () => {
    const html = buildPanelHtml({ cspSource: 'file:', nonce: NONCE, scriptUri: './webview.js', styleUri: './losscape.css' });
    writeFileSync(path.join(outDir, 'webview.js'), js);
    writeFileSync(path.join(outDir, 'losscape.css'), css);
    const w = await open('panel-grokking.html', html, 'window.__posted = []; window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m) });');
    await w.page.waitForFunction(() => window.__posted.length > 0);
    const full = loadKind('grokking-modadd-partial.losscape.json', 'grokking');
    // The same run earlier on: 10 checkpoints done.
    const cut = <T>(s: (T | null)[] | null): (T | null)[] | null => (s ? s.map((v, i) => (i < 10 ? v : null)) : s);
    const early: LosscapeResult = {
      ...full,
      result: { ...full.result, checkpointsDone: 10, trainLoss: cut(full.result.trainLoss) ?? [], testLoss: cut(full.result.testLoss) ?? [], trainAccuracy: cut(full.result.trainAccuracy) },
    };
    const rendered = (): Promise<number> => w.page.evaluate(() => window.__posted.filter((m) => typeof m === 'object' && m !== null && 'type' in m && m.type === 'rendered').length);
    for (const [i, result] of [early, full].entries()) {
      await w.page.evaluate((r) => window.postMessage({ type: 'show', result: r, title: 'Panel test' }, '*'), result);
      await w.page.waitForFunction((n) => window.__posted.filter((m) => typeof m === 'object' && m !== null && 'type' in m && m.type === 'rendered').length === n, i + 1);
    }
    assert.equal(await rendered(), 2);
    assert.equal(await w.page.locator('.lc-panel').count(), 1, 'updated in place');
    assert.match((await w.page.locator('.lc-badge').textContent()) ?? '', /29 of 41 checkpoints/);
    const d = (await w.page.locator('.lc-dash-panel[data-panel="loss"] path.lc-series').first().getAttribute('d')) ?? '';
    assert.equal((d.match(/[ML]/g) ?? []).length, 29);
    await w.page.locator('.lc-button', { hasText: 'SVG' }).click();
    await w.page.locator('.lc-button', { hasText: /^CSV$/ }).click();
    await w.page.waitForFunction(() => window.__posted.filter((m) => typeof m === 'object' && m !== null && 'type' in m && m.type === 'export').length === 2);
    const posted = (await w.page.evaluate(() => window.__posted)).map((m) => WebviewToHostSchema.parse(m));
    assert.deepEqual(
      posted.map((m) => (m.type === 'export' ? `export:${m.format}` : m.type === 'rendered' ? `rendered:${m.kind}` : m.type)),
      ['ready', 'rendered:grokking', 'rendered:grokking', 'export:svg', 'export:csv'],
    );
    // A partial Hessian (eigenpairs only) then the full one: same panel kind switch, toolbar follows.
    const hessian = loadKind('hessian.losscape.json', 'hessian');
    const partialHessian: LosscapeResult = {
      ...hessian,
      complete: false,
      status: 'running',
      result: { ...hessian.result, trace: null, diagonal: null, density: null, layers: null, lambdaMaxOverTrace: null, phases: ['eigen'] },
    };
    for (const [i, result] of [partialHessian, hessian].entries()) {
      await w.page.evaluate((r) => window.postMessage({ type: 'show', result: r, title: 'Hessian test' }, '*'), result);
      await w.page.waitForFunction((n) => window.__posted.filter((m) => typeof m === 'object' && m !== null && 'type' in m && m.type === 'rendered').length === n, i + 3);
      const csvButtons = await w.page.locator('.lc-button', { hasText: /CSV$/ }).allTextContents();
      assert.deepEqual(csvButtons, i === 0 ? ['CSV'] : ['CSV', 'Density CSV', 'Layers CSV', 'Trace CSV']);
      assert.equal(await w.page.locator('.lc-stem').count(), 11);
      assert.equal(await w.page.locator('.lc-density-chart').count(), i === 0 ? 0 : 1);
    }
    assert.equal(await w.page.locator('.lc-panel').count(), 1, 'one panel after the kind changed');
    assert.match((await w.page.locator('.lc-badge').textContent()) ?? '', /complete/);
    await w.page.evaluate((r) => window.postMessage({ type: 'show', result: r, title: 'Panel test' }, '*'), full);
    await w.page.waitForFunction(() => window.__posted.filter((m) => typeof m === 'object' && m !== null && 'type' in m && m.type === 'rendered').length === 5);

    // A theme switch redraws the data colours (high contrast: full-strength primary).
    await w.page.evaluate(() => document.body.classList.add('vscode-high-contrast'));
    await w.page.waitForFunction(() => {
      const stroke = document.querySelector('.lc-dash-panel[data-panel="loss"] path.lc-series')?.getAttribute('stroke');
      return stroke !== undefined && stroke !== null && stroke !== '#1a73e8';
    });
    await w.page.locator('.lc-panel').screenshot({ path: path.join(outDir, 'panel-grokking-hc.png') });
    await assertClean(w);
    await w.page.close();
  });
});
