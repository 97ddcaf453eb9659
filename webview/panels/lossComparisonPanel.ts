/**
 * The loss-comparison panel: one model under several losses. The 1D landscapes of every loss on
 * one chart, the 2D landscapes as small multiples sharing their axes and one colour scale, and a
 * table of the loss, accuracy, ‖∇L‖, top Hessian eigenvalues, trace ± stderr and SAM sharpness.
 * Losses differ in scale, so the panel shows values relative to each loss at θ (value / L(θ))
 * by default, raw on request, and says which in the caption and the table. Exports SVG, PNG and
 * the table as CSV.
 */
import type { ResultOf } from '../../src/shared/result';
import type { LossComparisonEntry, LossComparisonPayload } from '../../src/shared/results/lossComparison';
import { colorbar } from '../charts/colorbar';
import { contourChart } from '../charts/contour';
import { dashboard, type Series } from '../charts/dashboard';
import { finiteExtent } from '../charts/grid';
import { DEFAULT_LEVELS, makeLevels, type ColorMode } from '../charts/levels';
import { formatValue, formatWithError } from '../charts/scales';
import { dataTable, type Cell } from '../charts/table';
import type { SvgG } from '../charts/types';
import { toCsv } from '../export';
import { segmented, toolGroup } from './controls';
import { createFrame, renderDefinitions, renderHeader, type MetaItem } from './frame';
import { CAPTION_H, caption, clearSvg, exportGroup, figureWidth, sizeSvg, spacer, tableBox } from './figure';
import type { Panel, PanelContext, PanelFactory } from './panel';

type LossComparisonResult = ResultOf<'loss-comparison'>;
export type ValueView = 'relative' | 'raw';

const COLORBAR_W = 64;
const GAP = 16;

export const createLossComparisonPanel: PanelFactory<'loss-comparison'> = (root: HTMLElement, ctx: PanelContext): Panel<LossComparisonResult> => {
  const frame = createFrame(root, 'Loss comparison');
  const tables = tableBox(frame);
  const state: { view: ValueView; scale: ColorMode } = { view: 'relative', scale: 'linear' };
  let current: { result: LossComparisonResult; title: string } | null = null;
  let scaleChosen = false;

  const draw = (): void => {
    if (!current) return;
    const { result, title } = current;
    const p = result.result;
    const theme = ctx.theme();
    const width = figureWidth(frame, 420, 1100);
    clearSvg(frame);
    caption(frame.svg, title, [`${p.losses.length} of ${p.lossesRequested.length} losses`, `${p.dim.toLocaleString('en-US')} parameters`, viewText(state.view), `${state.scale} colour scale`].join(' · '));
    let y = CAPTION_H + 6;
    if (!p.losses.length) {
      frame.svg.append('text').attr('class', 'lc-pending-label').attr('x', 8).attr('y', y + 20).text('No loss computed yet.');
      sizeSvg(frame, width, y + 40);
      return;
    }
    const palette = [theme.primary, theme.secondary, ...theme.palette];
    const colorOf = (i: number): string => palette[i % palette.length];
    // 1D: every loss on one chart (shared axes).
    const series: Series[] = p.losses.map((e, i) => ({ label: e.given, x: p.t, y: line(e, state.view), color: colorOf(i), width: 2 }));
    const g1: SvgG = frame.svg.append('g').attr('class', 'lc-comparison-1d').attr('transform', `translate(0,${y})`);
    const h1 = dashboard(
      g1,
      { panels: [{ id: 'landscape1d', title: '1D landscapes along the same direction δ', subtitle: state.view === 'relative' ? 'f(t)/L(θ)' : 'f(t) = L(θ + tδ)', y: state.scale === 'log' ? 'log' : 'linear', series }] },
      { width, panelHeight: 200, theme, xLabel: 't', xFormat: (v) => formatValue(v, 3), tooltip: frame.tooltip },
    ).height;
    y += h1 + GAP;
    // 2D: small multiples, the same x/y axes and one colour scale for all.
    const grids = p.losses.map((e) => grid(e, state.view));
    const ext = finiteExtent(grids.flat());
    const [lo, hi] = ext ?? [0, 1];
    const levels = makeLevels(lo, hi, DEFAULT_LEVELS, state.scale);
    // The first multiple's y-axis label sits left of its plot: leave it room.
    const LEFT = 14;
    const avail = width - COLORBAR_W - LEFT;
    const cols = Math.max(1, Math.min(p.losses.length, Math.floor((avail + GAP) / (220 + GAP))));
    const cell = Math.floor((avail - (cols - 1) * GAP) / cols);
    const g2: SvgG = frame.svg.append('g').attr('class', 'lc-comparison-2d').attr('transform', `translate(${LEFT},${y})`);
    p.losses.forEach((e, i) => {
      const gx = (i % cols) * (cell + GAP);
      const gy = Math.floor(i / cols) * (cell + 22 + GAP);
      const g: SvgG = g2.append('g').attr('class', 'lc-small-multiple').attr('data-loss', e.given).attr('transform', `translate(${gx},${gy})`);
      g.append('text').attr('class', 'lc-panel-title').attr('x', 4).attr('y', 14).text(e.given);
      const chart: SvgG = g.append('g').attr('transform', 'translate(0,20)');
      contourChart(
        chart,
        // A comparison is written whole: every row is done, and a null is a non-finite loss (a gap).
        { x: p.x, y: p.y, loss: grids[i], center: { x: 0, y: 0, label: 'θ' }, rowsDone: p.y.length },
        { width: cell, height: cell, levels, theme, tooltip: frame.tooltip, xLabel: 'α (δ)', yLabel: 'β (η)', margin: { left: 44, bottom: 36 } },
      );
    });
    const rows = Math.ceil(p.losses.length / cols);
    const h2 = rows * (cell + 22) + (rows - 1) * GAP;
    if (ext) {
      const bar: SvgG = frame.svg.append('g').attr('transform', `translate(${LEFT + cols * cell + (cols - 1) * GAP + 10},${y + 34})`);
      colorbar(bar, { height: Math.max(80, cell - 40), levels, theme, label: state.view === 'relative' ? 'f / L(θ)' : 'loss' });
    }
    sizeSvg(frame, width, y + h2 + 8);
  };

  const view = segmented<ValueView>(
    'Values',
    [
      { value: 'relative', text: 'Relative', title: 'Each value divided by that loss at θ, L(θ): losses differ in scale' },
      { value: 'raw', text: 'Raw', title: 'The values as computed, each in its own loss’s units' },
    ],
    state.view,
    (v) => {
      state.view = v;
      if (current) renderTable(tables, current.result.result, state.view, current.result.definitions ?? {});
      draw();
    },
  );
  const scale = segmented<ColorMode>(
    'Scale',
    [
      { value: 'linear', text: 'Linear' },
      { value: 'log', text: 'Log' },
    ],
    state.scale,
    (v) => {
      state.scale = v;
      draw();
    },
  );
  frame.toolbar.replaceChildren(
    toolGroup('Values', view.el),
    toolGroup('Scale', scale.el),
    spacer(),
    exportGroup(frame, ctx, () => current?.title ?? 'loss comparison', [
      { label: 'CSV', title: 'Save the comparison table (raw and relative values) as CSV', name: 'losses', make: () => (current ? lossComparisonCsv(current.result.result) : '') },
    ]),
  );

  return {
    update(result, title) {
      current = { result, title };
      const p = result.result;
      if (!scaleChosen && p.losses.length) {
        // A log colour scale when the shared values span decades (one loss far steeper than the
        // others would flatten the rest); afterwards the user's choice stands.
        const ext = finiteExtent(p.losses.flatMap((e) => grid(e, state.view)));
        state.scale = ext && ext[0] > 0 && ext[1] / ext[0] >= 100 ? 'log' : 'linear';
        scale.set(state.scale);
        scaleChosen = true;
      }
      renderHeader(frame.header, result, title, `${p.losses.length} of ${p.lossesRequested.length} losses`, metaItems(p));
      renderTable(tables, p, state.view, result.definitions ?? {});
      const warnings = p.losses.flatMap((e) => (e.lossInfo.warnings ?? []).map((w) => `${e.given}: ${w}`));
      renderDefinitions(frame.notes, result.definitions, warnings);
      draw();
    },
    redraw: draw,
    destroy() {
      frame.tooltip.remove();
      frame.remove();
    },
  };
};

function viewText(v: ValueView): string {
  return v === 'relative' ? 'values relative to each loss at θ (value / L(θ))' : 'raw values, each in its loss’s units';
}

function line(e: LossComparisonEntry, v: ValueView): ReadonlyArray<number | null> {
  return v === 'relative' ? e.relative.landscape1d : e.landscape1d;
}

function grid(e: LossComparisonEntry, v: ValueView): ReadonlyArray<ReadonlyArray<number | null>> {
  return v === 'relative' ? e.relative.landscape2d : e.landscape2d;
}

function metaItems(p: LossComparisonPayload): MetaItem[] {
  const d = p.directions;
  return [
    ['Directions', `${d.norm === 'none' ? 'unnormalised' : `${d.norm}-normalised`} random δ, η · bias ${d.bias} · seed ${d.seed}${d.cosine !== null ? ` · cos(δ, η) = ${d.cosine.toFixed(3)}` : ''}`],
    ['Grids', `${p.t.length} points (1D) · ${p.x.length} × ${p.y.length} (2D) on [${formatValue(p.x[0], 3)}, ${formatValue(p.x[p.x.length - 1], 3)}]`],
    ['Losses', p.lossesRequested.join(', ')],
  ];
}

/** The table's rows: raw or relative values, one row per loss. */
export function comparisonRows(p: LossComparisonPayload, v: ValueView): string[][] {
  const k = Math.max(0, ...p.losses.map((e) => e.eigenvalues.length));
  return p.losses.map((e) => {
    const r = v === 'relative' ? e.relative : e;
    const eig = Array.from({ length: k }, (_, i) => (r.eigenvalues[i] === undefined ? '—' : formatValue(r.eigenvalues[i])));
    return [
      e.given,
      formatValue(e.loss),
      e.accuracy === null ? '—' : `${(100 * e.accuracy).toFixed(1)} %`,
      formatValue(r.gradNorm),
      ...eig,
      formatWithError(r.trace.estimate, r.trace.stderr),
      formatValue(r.sam.firstOrder),
      formatValue(r.sam.ascent),
    ];
  });
}

function renderTable(box: HTMLElement, p: LossComparisonPayload, v: ValueView, definitions: Record<string, string>): void {
  box.replaceChildren();
  if (!p.losses.length) return;
  const k = Math.max(0, ...p.losses.map((e) => e.eigenvalues.length));
  const rho = p.losses[0].sam.rho;
  const rows: Cell[][] = comparisonRows(p, v).map((cells, i) => {
    const e = p.losses[i];
    return [{ text: cells[0], title: e.lossInfo.definition ?? e.name }, ...cells.slice(1)];
  });
  dataTable(box, {
    caption: v === 'relative' ? 'Losses compared — curvature and sharpness relative to each loss at θ (value / L(θ))' : 'Losses compared — raw values, each in its loss’s units',
    className: 'lc-table-wide',
    columns: [
      { label: 'loss', title: 'hover a loss for its definition' },
      { label: 'L(θ)', numeric: true, title: definitions.loss },
      { label: 'accuracy', numeric: true },
      { label: '‖∇L‖', numeric: true, title: definitions.gradNorm },
      ...Array.from({ length: k }, (_, i) => ({ label: `λ${i + 1}`, numeric: true, title: definitions.eigenvalues })),
      { label: 'trace ± stderr', numeric: true, title: definitions.trace },
      { label: `SAM first order (ρ = ${rho})`, numeric: true, title: definitions.sam },
      { label: `SAM ascent (ρ = ${rho})`, numeric: true, title: definitions.sam },
    ],
    rows,
  });
}

export function lossComparisonCsv(p: LossComparisonPayload): string {
  const k = Math.max(0, ...p.losses.map((e) => e.eigenvalues.length));
  const eigCols = Array.from({ length: k }, (_, i) => `lambda${i + 1}`);
  const header = ['loss', 'params', 'values', 'L', 'accuracy', 'gradNorm', ...eigCols, 'trace', 'traceStderr', 'samFirstOrder', 'samAscent', 'rho'];
  const rows: (string | number | null)[][] = [];
  for (const e of p.losses) {
    for (const v of ['raw', 'relative'] as const) {
      const r = v === 'relative' ? e.relative : e;
      rows.push([
        e.given,
        JSON.stringify(e.params),
        v,
        e.loss,
        e.accuracy,
        r.gradNorm,
        ...Array.from({ length: k }, (_, i) => r.eigenvalues[i] ?? null),
        r.trace.estimate,
        r.trace.stderr,
        r.sam.firstOrder,
        r.sam.ascent,
        e.sam.rho,
      ]);
    }
  }
  return toCsv(header, rows);
}
