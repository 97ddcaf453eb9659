/**
 * The Hessian panel: the largest (and smallest) eigenvalues as stems with their residuals, the
 * spectral density on a log axis with the Ritz values as a rug, per-layer top eigenvalues and
 * traces (± standard error), the Hutchinson trace converging with its standard error, and the
 * diagonal per layer. The header says which operator, how the eigenpairs were found, the trace
 * ± stderr, and for the finite-difference Hessian the step and the estimated error of H·v.
 * Exports SVG, PNG and CSVs of the eigenpairs, the density, the layers and the trace samples.
 */
import type { ResultOf } from '../../src/shared/result';
import type { HessianPayload } from '../../src/shared/results/hessian';
import { barChart } from '../charts/bars';
import { dashboard } from '../charts/dashboard';
import { densityChart } from '../charts/density';
import { eigenChart } from '../charts/eigen';
import { formatValue, formatWithError, isNum, type AxisKind } from '../charts/scales';
import { dataTable } from '../charts/table';
import type { Theme } from '../charts/theme';
import type { Tooltip } from '../charts/tooltip';
import { toCsv } from '../export';
import { segmented, toolGroup } from './controls';
import { createFrame, renderDefinitions, renderHeader, type MetaItem } from './frame';
import { CAPTION_H, caption, cellGrid, clearSvg, exportGroup, figureWidth, sizeSvg, spacer, tableBox, type CsvExport, type FigureCell } from './figure';
import type { Panel, PanelContext, PanelFactory } from './panel';

type HessianResult = ResultOf<'hessian'>;

const OPERATOR: Record<HessianPayload['operator'], string> = { hessian: 'Hessian', ggn: 'Gauss–Newton (GGN)', fisher: 'empirical Fisher' };

export const createHessianPanel: PanelFactory<'hessian'> = (root: HTMLElement, ctx: PanelContext): Panel<HessianResult> => {
  const frame = createFrame(root, 'Hessian spectrum');
  const tables = tableBox(frame);
  let current: { result: HessianResult; title: string } | null = null;
  let yKind: AxisKind = 'linear';
  let yChosen = false;
  let toolbarKey = '';

  const draw = (): void => {
    if (!current) return;
    const { result, title } = current;
    const p = result.result;
    const theme = ctx.theme();
    const width = figureWidth(frame, 400, 980);
    clearSvg(frame);
    caption(frame.svg, title, subtitle(result, p));
    const body = frame.svg.append('g').attr('class', 'lc-hessian').attr('transform', `translate(0,${CAPTION_H + 6})`);
    const cells = hessianCells(p, theme, yKind, frame.tooltip);
    const bottom = cells.length ? cellGrid(body, cells, width, 0) : 0;
    if (!cells.length) body.append('text').attr('class', 'lc-pending-label').attr('x', 8).attr('y', 20).text('Nothing computed yet.');
    sizeSvg(frame, width, CAPTION_H + 6 + Math.max(bottom, 30) + 8);
  };

  const buildToolbar = (p: HessianPayload): void => {
    const csvs = csvExports(() => current?.result.result ?? null, p);
    toolbarKey = csvs.map((c) => c.label).join();
    const scale = segmented<AxisKind>(
      'Eigenvalue axis scale',
      [
        { value: 'linear', text: 'Linear' },
        { value: 'log', text: 'Log', title: 'logarithmic eigenvalue axis (symlog when some are negative)' },
      ],
      yKind,
      (v) => {
        yKind = v;
        yChosen = true;
        draw();
      },
    );
    frame.toolbar.replaceChildren(toolGroup('Eigenvalues', scale.el), spacer(), exportGroup(frame, ctx, () => current?.title ?? 'hessian', csvs));
  };

  return {
    update(result, title) {
      current = { result, title };
      const p = result.result;
      if (!yChosen) yKind = suggestedY(p);
      if (csvExports(() => null, p).map((c) => c.label).join() !== toolbarKey || !frame.toolbar.childElementCount) buildToolbar(p);
      renderHeader(frame.header, result, title, p.phases.length ? `done: ${p.phases.join(', ')}` : null, metaItems(p));
      renderTables(tables, p);
      renderDefinitions(frame.notes, result.definitions, notes(p));
      draw();
    },
    redraw: draw,
    destroy() {
      frame.tooltip.remove();
      frame.remove();
    },
  };
};

/** Log when the eigenvalues shown are positive and span more than a decade and a half. */
function suggestedY(p: HessianPayload): AxisKind {
  const v = p.eigenvalues;
  return v.length > 1 && v.every((x) => x > 0) && Math.max(...v) / Math.min(...v) >= 30 ? 'log' : 'linear';
}

function subtitle(r: HessianResult, p: HessianPayload): string {
  return [OPERATOR[p.operator], `${p.dim.toLocaleString('en-US')} parameters`, r.provenance.loss.name, `${r.provenance.data.samplesUsed.toLocaleString('en-US')} samples`].join(' · ');
}

export function hessianCells(p: HessianPayload, theme: Theme, yKind: AxisKind, tooltip: Tooltip): FigureCell[] {
  const cells: FigureCell[] = [];
  if (p.eigenvalues.length || p.bottom?.eigenvalues.length) {
    cells.push((g, w) => {
      eigenChart(
        g,
        {
          title: p.bottom?.eigenvalues.length ? 'Largest and smallest eigenvalues' : 'Largest eigenvalues',
          subtitle: 'error bar: residual ‖Av − λv‖',
          top: { values: p.eigenvalues, residuals: p.residuals },
          bottom: p.bottom ? { values: p.bottom.eigenvalues, residuals: p.bottom.residuals } : null,
        },
        { width: w, height: 290, theme, y: yKind, tooltip },
      );
      return 290;
    });
  }
  if (p.density) {
    const d = p.density;
    cells.push((g, w) => {
      densityChart(
        g,
        {
          title: 'Spectral density',
          subtitle: `SLQ, ${d.starts} starts × ${d.steps} steps, σ = ${formatValue(d.sigma, 2)}`,
          x: d.x,
          density: d.density,
          nodes: d.nodes,
          weights: d.weights,
          markers: [
            { value: d.lambdaMax, label: `λ_max ≈ ${formatValue(d.lambdaMax, 3)}` },
            ...(d.lambdaMin < 0 ? [{ value: d.lambdaMin, label: `λ_min ≈ ${formatValue(d.lambdaMin, 3)}`, color: theme.muted }] : []),
          ],
        },
        { width: w, height: 290, theme, tooltip },
      );
      return 290;
    });
  }
  const layers = p.layers ?? [];
  if (layers.length) {
    cells.push((g, w) =>
      barChart(
        g,
        {
          title: 'Top eigenvalue per layer',
          subtitle: 'diagonal block, Lanczos k = 1',
          bars: layers.map((l) => ({
            label: l.layer,
            value: l.topEigenvalue,
            error: null,
            details: [
              ['parameters', l.size.toLocaleString('en-US')],
              ['residual', formatValue(l.residual, 3)],
            ],
          })),
        },
        { width: w, theme, tooltip, color: theme.primary, xLabel: 'λ_max of the block' },
      ).height,
    );
    if (layers.some((l) => isNum(l.trace))) {
      cells.push((g, w) =>
        barChart(
          g,
          {
            title: 'Trace per layer',
            subtitle: '± standard error',
            bars: layers.map((l) => ({ label: l.layer, value: l.trace, error: l.traceStderr, details: [['probes', String(l.probes)]] })),
          },
          { width: w, theme, tooltip, color: theme.secondary, xLabel: 'tr of the block (Hutchinson)' },
        ).height,
      );
    }
  }
  const t = p.trace;
  if (t && t.samples.length > 1) {
    const running = runningMean(t.samples);
    cells.push(
      (g, w) =>
        dashboard(
          g,
          {
            panels: [
              {
                id: 'trace',
                title: 'Hutchinson trace',
                subtitle: `${formatWithError(t.estimate, t.stderr)} after ${t.probes} probes`,
                series: [
                  {
                    label: 'running mean ± stderr',
                    x: running.n,
                    y: running.mean,
                    color: theme.primary,
                    width: 2,
                    band: { lo: running.mean.map((m, i) => (isNum(running.se[i]) ? m - (running.se[i] ?? 0) : null)), hi: running.mean.map((m, i) => (isNum(running.se[i]) ? m + (running.se[i] ?? 0) : null)) },
                  },
                ],
                // The running mean ends on the estimate, so the line is named in the legend, not beside it.
                hlines: [{ value: t.estimate, label: '', color: theme.foreground }],
                legendExtra: [{ label: 'final estimate', color: theme.foreground, dash: '6 3', width: 1.25 }],
              },
            ],
          },
          { width: w, panelHeight: 190, theme, xLabel: 'probes', tooltip, margin: { left: 60 } },
        ).height,
    );
  }
  if (p.diagonal?.perLayer.length) {
    const diag = p.diagonal;
    cells.push((g, w) =>
      barChart(
        g,
        {
          title: 'Diagonal, mean per layer',
          subtitle: `± stderr, ${diag.probes} probes`,
          bars: diag.perLayer.map((l) => ({
            label: l.layer,
            value: l.mean,
            error: l.meanStderr,
            details: [
              ['sum', formatValue(l.sum)],
              ['min … max', `${formatValue(l.min)} … ${formatValue(l.max)}`],
            ],
          })),
        },
        { width: w, theme, tooltip, color: theme.palette[0], xLabel: 'mean of diag(A) over the layer' },
      ).height,
    );
  }
  return cells;
}

function runningMean(samples: ReadonlyArray<number>): { n: number[]; mean: number[]; se: (number | null)[] } {
  const n: number[] = [];
  const mean: number[] = [];
  const se: (number | null)[] = [];
  let m = 0;
  let m2 = 0;
  samples.forEach((v, i) => {
    // Welford's update: stable for long runs of large samples.
    const k = i + 1;
    const d = v - m;
    m += d / k;
    m2 += d * (v - m);
    n.push(k);
    mean.push(m);
    se.push(k > 1 ? Math.sqrt(m2 / (k - 1) / k) : null);
  });
  return { n, mean, se };
}

function metaItems(p: HessianPayload): MetaItem[] {
  const items: MetaItem[] = [['Operator', `${OPERATOR[p.operator]} · d = ${p.dim.toLocaleString('en-US')}`, p.operatorDescription]];
  items.push(['At θ', `loss ${formatValue(p.loss)}${p.accuracy !== null ? ` · accuracy ${(p.accuracy * 100).toFixed(1)} %` : ''} · ‖∇L‖ ${formatValue(p.gradientNorm, 3)}`]);
  if (p.eigen) {
    const e = p.eigen;
    items.push(['Eigenpairs', `${e.method === 'lanczos' ? 'Lanczos' : 'power iteration'} · k = ${e.k} · ${e.iterations} iterations · ${e.matvecs} products · ${e.converged ? 'converged' : 'NOT converged'}`]);
  }
  if (p.trace) {
    const t = p.trace;
    items.push(['Trace', `${formatWithError(t.estimate, t.stderr)} · ${t.method === 'hutch++' ? 'Hutch++' : 'Hutchinson'}, ${t.probes} probes`, `${t.matvecs} products; ± is one standard error`]);
  }
  if (p.lambdaMaxOverTrace !== null) items.push(['λ_max / trace', formatValue(p.lambdaMaxOverTrace, 3)]);
  const fd = p.finiteDifference;
  if (fd) {
    const err = fd.maxRelativeError !== null ? `error max ${formatValue(fd.maxRelativeError, 2)}, median ${formatValue(fd.medianRelativeError, 2)}` : 'error not estimated';
    const frozen = fd.frozenSites > 0 ? `ReLU patterns frozen at θ in ${fd.frozenSites} layer${fd.frozenSites === 1 ? '' : 's'}` : 'no activation pattern frozen';
    items.push([
      'H·v step',
      `δ = ${formatValue(fd.relativeStep, 2)} · ${err}`,
      `Central differences with Richardson extrapolation; ${fd.products} products, ${fd.gradients} gradients; step h from ${formatValue(fd.minStep, 3)} to ${formatValue(fd.maxStep, 3)}; ${frozen}${fd.unfrozen.length ? `; kinks not frozen in ${fd.unfrozen.join(', ')}` : ''}`,
    ]);
  }
  return items;
}

function notes(p: HessianPayload): string[] {
  const out: string[] = [];
  if (p.eigen && !p.eigen.converged) out.push('The eigensolver stopped before every pair met its tolerance: read the residuals before the eigenvalues.');
  const fd = p.finiteDifference;
  if (fd?.maxRelativeError !== null && fd?.maxRelativeError !== undefined && fd.maxRelativeError > 0.05) {
    out.push(`The estimated error of the Hessian-vector products reaches ${formatValue(fd.maxRelativeError * 100, 2)} %: eigenvalues below that fraction of λ_max are noise.`);
  }
  if (fd?.unfrozen.length) out.push(`Kinks of ${fd.unfrozen.join(', ')} were not frozen: crossing them within ±h inflates the estimated error of H·v.`);
  return out;
}

function renderTables(box: HTMLElement, p: HessianPayload): void {
  box.replaceChildren();
  const rows: string[][] = p.eigenvalues.map((v, i) => [`λ${i + 1}`, formatValue(v, 6), formatValue(p.residuals[i], 3), relative(p.residuals[i], v)]);
  const b = p.bottom;
  if (b) b.eigenvalues.forEach((v, i) => rows.push([i === 0 ? 'λ_d (smallest)' : `λ_d−${i}`, formatValue(v, 6), formatValue(b.residuals[i], 3), relative(b.residuals[i], v)]));
  if (rows.length) {
    dataTable(box, {
      caption: 'Eigenpairs',
      columns: [
        { label: '' },
        { label: 'eigenvalue', numeric: true },
        { label: 'residual', numeric: true, title: '‖A·v − λ·v‖₂ for the unit eigenvector v: an eigenvalue of A lies within this distance of λ' },
        { label: 'relative', numeric: true, title: 'residual / |λ|' },
      ],
      rows,
    });
  }
  const diag = p.diagonal?.perLayer ?? [];
  if (diag.length) {
    dataTable(box, {
      caption: `Diagonal per layer (${p.diagonal?.probes ?? 0} probes)`,
      columns: [{ label: 'layer' }, { label: 'size', numeric: true }, { label: 'sum', numeric: true }, { label: 'mean ± stderr', numeric: true }, { label: 'min', numeric: true }, { label: 'max', numeric: true }],
      rows: diag.map((l) => [l.layer, l.size.toLocaleString('en-US'), formatValue(l.sum), formatWithError(l.mean, l.meanStderr), formatValue(l.min), formatValue(l.max)]),
    });
  }
}

const relative = (r: number | undefined, v: number): string => (r !== undefined && v !== 0 ? formatValue(r / Math.abs(v), 2) : '—');

function csvExports(get: () => HessianPayload | null, shape: HessianPayload): CsvExport[] {
  const out: CsvExport[] = [];
  const p = (): HessianPayload => get() ?? shape;
  if (shape.eigenvalues.length || shape.bottom) out.push({ label: 'CSV', title: 'Save the eigenvalues and residuals as CSV', name: 'eigenvalues', make: () => eigenCsv(p()) });
  if (shape.density) out.push({ label: 'Density CSV', title: 'Save the smoothed spectral density as CSV', name: 'density', make: () => toCsv(['lambda', 'density'], (p().density?.x ?? []).map((x, i) => [x, p().density?.density[i] ?? null])) });
  if (shape.layers?.length) out.push({ label: 'Layers CSV', title: 'Save the per-layer curvature as CSV', name: 'layers', make: () => layersCsv(p()) });
  if (shape.trace?.samples.length) out.push({ label: 'Trace CSV', title: 'Save the Hutchinson samples as CSV', name: 'trace-samples', make: () => toCsv(['probe', 'sample'], (p().trace?.samples ?? []).map((v, i) => [i + 1, v])) });
  return out;
}

export function eigenCsv(p: HessianPayload): string {
  const rows: (string | number)[][] = p.eigenvalues.map((v, i) => ['largest', i + 1, v, p.residuals[i]]);
  p.bottom?.eigenvalues.forEach((v, i) => rows.push(['smallest', i + 1, v, p.bottom?.residuals[i] ?? '']));
  return toCsv(['which', 'rank', 'eigenvalue', 'residual'], rows);
}

function layersCsv(p: HessianPayload): string {
  const diag = new Map((p.diagonal?.perLayer ?? []).map((l) => [l.layer, l]));
  return toCsv(
    ['layer', 'size', 'topEigenvalue', 'residual', 'trace', 'traceStderr', 'probes', 'diagonalMean', 'diagonalMeanStderr'],
    (p.layers ?? []).map((l) => [l.layer, l.size, l.topEigenvalue, l.residual, l.trace, l.traceStderr, l.probes, diag.get(l.layer)?.mean ?? null, diag.get(l.layer)?.meanStderr ?? null]),
  );
}
