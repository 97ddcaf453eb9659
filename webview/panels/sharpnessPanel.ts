/**
 * The sharpness panel: the loss increase against the radius ρ for SAM's first-order step and
 * for projected gradient ascent (the worst case found), with the average-case increase at the
 * same radius and its standard error; ASAM against its adaptive radius; and a table of every
 * measure with its radius, value ± standard error and its definition on hover. Exports SVG,
 * PNG and the table as CSV.
 */
import type { ResultOf } from '../../src/shared/result';
import type { SharpnessPayload } from '../../src/shared/results/sharpness';
import { dashboard, type Series } from '../charts/dashboard';
import { formatValue, formatWithError, isNum, type AxisKind } from '../charts/scales';
import { dataTable, type Cell } from '../charts/table';
import type { Theme } from '../charts/theme';
import type { Tooltip } from '../charts/tooltip';
import { toCsv } from '../export';
import { createFrame, renderDefinitions, renderHeader, type MetaItem } from './frame';
import { CAPTION_H, caption, cellGrid, clearSvg, exportGroup, figureWidth, sizeSvg, spacer, tableBox, type FigureCell } from './figure';
import type { Panel, PanelContext, PanelFactory } from './panel';

type SharpnessResult = ResultOf<'sharpness'>;

export const createSharpnessPanel: PanelFactory<'sharpness'> = (root: HTMLElement, ctx: PanelContext): Panel<SharpnessResult> => {
  const frame = createFrame(root, 'Sharpness');
  const tables = tableBox(frame);
  let current: { result: SharpnessResult; title: string } | null = null;

  const draw = (): void => {
    if (!current) return;
    const { result, title } = current;
    const p = result.result;
    const theme = ctx.theme();
    const width = figureWidth(frame, 400, 980);
    clearSvg(frame);
    caption(frame.svg, title, [`${p.dim.toLocaleString('en-US')} parameters`, result.provenance.loss.name, `L(θ) = ${formatValue(p.loss)}`, 'loss increases over L(θ)'].join(' · '));
    const body = frame.svg.append('g').attr('class', 'lc-sharpness').attr('transform', `translate(0,${CAPTION_H + 6})`);
    const cells = sharpnessCells(p, theme, frame.tooltip);
    const bottom = cells.length ? cellGrid(body, cells, width, 0, 360) : 0;
    if (!cells.length) body.append('text').attr('class', 'lc-pending-label').attr('x', 8).attr('y', 20).text('No radius measured yet.');
    sizeSvg(frame, width, CAPTION_H + 6 + Math.max(bottom, 30) + 8);
  };

  frame.toolbar.replaceChildren(
    spacer(),
    exportGroup(frame, ctx, () => current?.title ?? 'sharpness', [
      { label: 'CSV', title: 'Save the sharpness table as CSV', name: 'measures', make: () => (current ? sharpnessCsv(current.result.result) : '') },
    ]),
  );

  return {
    update(result, title) {
      current = { result, title };
      const p = result.result;
      renderHeader(frame.header, result, title, p.phases.length ? `done: ${p.phases.join(', ')}` : null, metaItems(p));
      renderTable(tables, p, result.definitions ?? {});
      renderDefinitions(frame.notes, result.definitions, []);
      draw();
    },
    redraw: draw,
    destroy() {
      frame.tooltip.remove();
      frame.remove();
    },
  };
};

/** Log when the values are positive and span at least `ratio`. */
function spread(values: ReadonlyArray<number | null>, ratio: number): AxisKind {
  const v = values.filter(isNum);
  return v.length > 1 && v.every((x) => x > 0) && Math.max(...v) / Math.min(...v) >= ratio ? 'log' : 'linear';
}

export function sharpnessCells(p: SharpnessPayload, theme: Theme, tooltip: Tooltip): FigureCell[] {
  const cells: FigureCell[] = [];
  if (p.sam.length || p.averageCase.length) {
    const series: Series[] = [];
    if (p.sam.length) {
      const rho = p.sam.map((s) => s.rho);
      series.push({ label: 'ascent (worst found)', x: rho, y: p.sam.map((s) => s.ascent), color: theme.primary, width: 2, points: true });
      series.push({ label: 'first order ρ·g/‖g‖', x: rho, y: p.sam.map((s) => s.firstOrder), color: theme.secondary, dash: '5 3', points: true });
    }
    if (p.averageCase.length) {
      series.push({
        label: 'average case, radius σ√d',
        x: p.averageCase.map((a) => a.radius),
        y: p.averageCase.map((a) => a.mean),
        error: p.averageCase.map((a) => a.stderr),
        color: theme.palette[0],
        dash: '2 3',
        points: true,
      });
    }
    const xs = series.flatMap((s) => [...s.x]);
    const ys = series.flatMap((s) => [...s.y]);
    cells.push(
      (g, w) =>
        dashboard(
          g,
          { panels: [{ id: 'sam', title: 'SAM ρ-sharpness', subtitle: 'loss increase within ‖ε‖₂ ≤ ρ', y: spread(ys, 30), series }] },
          { width: w, panelHeight: 220, theme, x: spread(xs, 8), xLabel: 'ρ (radius ‖ε‖₂)', xFormat: (v) => formatValue(v, 3), tooltip },
        ).height,
    );
  }
  const asam = p.asam ?? [];
  if (asam.length) {
    const rho = asam.map((s) => s.rho);
    cells.push(
      (g, w) =>
        dashboard(
          g,
          {
            panels: [
              {
                id: 'asam',
                title: 'Adaptive sharpness (ASAM)',
                subtitle: `‖T⁻¹ε‖₂ ≤ ρ, η = ${formatValue(asam[0].eta, 2)}`,
                y: spread([...asam.map((a) => a.ascent), ...asam.map((a) => a.firstOrder)], 30),
                series: [
                  { label: 'ascent (worst found)', x: rho, y: asam.map((a) => a.ascent), color: theme.primary, width: 2, points: true },
                  { label: 'first order', x: rho, y: asam.map((a) => a.firstOrder), color: theme.secondary, dash: '5 3', points: true },
                ],
              },
            ],
          },
          { width: w, panelHeight: 220, theme, x: spread(rho, 8), xLabel: 'adaptive ρ', xFormat: (v) => formatValue(v, 3), tooltip },
        ).height,
    );
  }
  return cells;
}

interface Row {
  /** Key of the measure's definition in the result's `definitions`. */
  key: string;
  measure: string;
  /** The radius parameter and its value: ρ (SAM, ASAM), ε (Keskar), σ (average case). */
  param: 'rho' | 'epsilon' | 'sigma';
  radius: number;
  eta: number | null;
  value: number;
  stderr: number | null;
  /** Ascent steps or Monte Carlo draws. */
  count: number;
  detail: string;
}

export function sharpnessRows(p: SharpnessPayload): Row[] {
  const rows: Row[] = [];
  const base = { eta: null, stderr: null };
  for (const s of p.sam) {
    rows.push({ ...base, key: 'sam', measure: 'SAM, first order', param: 'rho', radius: s.rho, value: s.firstOrder, count: 0, detail: 'at ε̂ = ρ·g/‖g‖' });
    rows.push({ ...base, key: 'sam', measure: 'SAM, ascent', param: 'rho', radius: s.rho, value: s.ascent, count: s.steps, detail: `${s.steps} ascent steps (a lower bound on the max)` });
  }
  for (const s of p.asam ?? []) {
    rows.push({ ...base, key: 'asam', measure: 'ASAM, first order', param: 'rho', radius: s.rho, eta: s.eta, value: s.firstOrder, count: 0, detail: `adaptive radius, η = ${formatValue(s.eta, 2)}` });
    rows.push({ ...base, key: 'asam', measure: 'ASAM, ascent', param: 'rho', radius: s.rho, eta: s.eta, value: s.ascent, count: s.steps, detail: `${s.steps} ascent steps, η = ${formatValue(s.eta, 2)}` });
  }
  if (p.keskar) {
    const k = p.keskar;
    const space = k.subspace === null ? 'full space' : `${k.subspace}-dim random subspace`;
    rows.push({ ...base, key: 'keskar', measure: 'Keskar φ', param: 'epsilon', radius: k.epsilon, value: k.value, count: k.steps, detail: `100·increase/(1 + L), increase ${formatValue(k.increase)}; ${space}; ${k.steps} steps` });
  }
  for (const a of p.averageCase) {
    rows.push({ ...base, key: 'averageCase', measure: 'Average case', param: 'sigma', radius: a.sigma, value: a.mean, stderr: a.stderr, count: a.samples, detail: `radius σ√d = ${formatValue(a.radius, 3)}; ${a.samples} Gaussian draws` });
  }
  return rows;
}

/**
 * One row per radius: SAM and ASAM with their first-order and worst-found (ascent) increases side
 * by side, Keskar's φ, the average case with its standard error. A measure's name is written on
 * its first row only, and carries its definition on hover.
 */
function renderTable(box: HTMLElement, p: SharpnessPayload, definitions: Record<string, string>): void {
  box.replaceChildren();
  const rows: Cell[][] = [];
  const group = (key: string, name: string, entries: Cell[][]): void =>
    entries.forEach((cells, i) => rows.push([{ text: i === 0 ? name : '', title: definitions[key], className: i === 0 ? 'lc-group-start' : 'lc-group' }, ...cells]));
  group('sam', 'SAM', p.sam.map((s) => [`ρ = ${formatValue(s.rho, 3)}`, formatValue(s.firstOrder), formatValue(s.ascent), `${s.steps} ascent steps`]));
  const asam = p.asam ?? [];
  if (asam.length) group('asam', `ASAM (η = ${formatValue(asam[0].eta, 2)})`, asam.map((s) => [`ρ = ${formatValue(s.rho, 3)}`, formatValue(s.firstOrder), formatValue(s.ascent), `${s.steps} ascent steps`]));
  const k = p.keskar;
  if (k) {
    const space = k.subspace === null ? 'full space' : `${k.subspace}-dim subspace`;
    group('keskar', 'Keskar φ', [[`ε = ${formatValue(k.epsilon, 2)}`, '—', formatValue(k.value), `100·ΔL/(1 + L), ΔL = ${formatValue(k.increase)}; ${space}`]]);
  }
  group('averageCase', 'Average case', p.averageCase.map((a) => [`σ = ${formatValue(a.sigma, 3)} (σ√d = ${formatValue(a.radius, 3)})`, '—', formatWithError(a.mean, a.stderr), `${a.samples} Gaussian draws`]));
  if (!rows.length) return;
  dataTable(box, {
    caption: 'Sharpness measures',
    className: 'lc-table-wide',
    columns: [
      { label: 'measure', title: 'hover a measure for its definition' },
      { label: 'radius' },
      { label: 'first order', numeric: true, title: 'L(θ + ε̂) − L(θ) at the first-order worst direction' },
      { label: 'value', numeric: true, title: 'SAM/ASAM: the largest L(θ + ε) − L(θ) found by projected gradient ascent (a lower bound on the max); Keskar: φ; average case: mean increase ± standard error' },
      { label: 'detail' },
    ],
    rows,
  });
}

function metaItems(p: SharpnessPayload): MetaItem[] {
  const items: MetaItem[] = [
    ['At θ', `loss ${formatValue(p.loss)}${p.accuracy !== null ? ` · accuracy ${(p.accuracy * 100).toFixed(1)} %` : ''} · ‖∇L‖ ${formatValue(p.gradientNorm, 3)}`],
    ['Parameters', p.dim.toLocaleString('en-US')],
  ];
  const worst = p.sam.length ? p.sam[p.sam.length - 1] : null;
  if (worst) items.push(['SAM at largest ρ', `ρ = ${formatValue(worst.rho, 3)}: +${formatValue(worst.ascent)} (first order +${formatValue(worst.firstOrder)})`]);
  if (p.keskar) items.push(['Keskar φ', `${formatValue(p.keskar.value, 3)} at ε = ${formatValue(p.keskar.epsilon, 2)}`]);
  return items;
}

export function sharpnessCsv(p: SharpnessPayload): string {
  return toCsv(
    ['measure', 'parameter', 'radius', 'eta', 'value', 'stderr', 'stepsOrDraws'],
    sharpnessRows(p).map((r) => [r.measure, r.param, r.radius, r.eta, r.value, r.stderr, r.count]),
  );
}
