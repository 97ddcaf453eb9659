/**
 * The scaling-law panel: loss against tokens on log–log axes with one colour per model size
 * (the fitted curve and its bootstrap band beside the rows it was fitted on, excluded rows
 * hollow, the held-out model's final row marked against its prediction and interval); the
 * iso-FLOP view (loss against N at fixed C = 6ND) with the compute-optimal frontier; the
 * residuals log L̂ − log L; and tables of the parameters, predictions and the compute-optimal
 * allocation. Exports SVG, PNG, the rows and the parameters (with every bootstrap replicate) as CSV.
 */
import type { ResultOf } from '../../src/shared/result';
import type { Interval, ScalingPayload, ScalingRow } from '../../src/shared/results/scaling';
import { formatValue } from '../charts/scales';
import { dataTable, type Cell } from '../charts/table';
import type { Theme } from '../charts/theme';
import type { Tooltip, TooltipRow } from '../charts/tooltip';
import { xyChart, type XyLine, type XyMarker, type XyPoint } from '../charts/xyChart';
import { toCsv } from '../export';
import { basename, createFrame, formatSeconds, renderDefinitions, renderTitleAndMeta, type MetaItem } from './frame';
import { CAPTION_H, caption, cellGrid, clearSvg, exportGroup, figureWidth, sizeSvg, spacer, tableBox, type FigureCell } from './figure';
import type { Panel, PanelContext, PanelFactory } from './panel';

type ScalingResult = ResultOf<'scaling'>;

const fmt = (v: number | null | undefined): string => formatValue(v, 4);
const ivText = (iv: Interval | undefined): string => (iv ? `[${fmt(iv.lo)}, ${fmt(iv.hi)}]` : '—');

export const createScalingPanel: PanelFactory<'scaling'> = (root: HTMLElement, ctx: PanelContext): Panel<ScalingResult> => {
  const frame = createFrame(root, 'Scaling law');
  const tables = tableBox(frame);
  let current: { result: ScalingResult; title: string } | null = null;

  const draw = (): void => {
    if (!current) return;
    const { result, title } = current;
    const s = result.result;
    const width = figureWidth(frame, 400, 1100);
    clearSvg(frame);
    caption(frame.svg, title, [s.formula, `${s.rows.length} rows fitted`, s.fit.bootstrap ? `${Math.round(s.fit.bootstrap.level * 100)} % bootstrap bands (${s.fit.bootstrap.replicates} replicates)` : 'no bootstrap'].join(' · '));
    const body = frame.svg.append('g').attr('class', 'lc-scaling').attr('transform', `translate(0,${CAPTION_H + 6})`);
    const bottom = cellGrid(body, scalingCells(s, ctx.theme(), frame.tooltip), width, 0, 420);
    sizeSvg(frame, width, CAPTION_H + 6 + bottom + 8);
  };

  frame.toolbar.replaceChildren(
    spacer(),
    exportGroup(frame, ctx, () => current?.title ?? 'scaling', [
      { label: 'Rows CSV', title: 'Save every row (fitted, held out, excluded) with its prediction and residual', name: 'rows', make: () => (current ? rowsCsv(current.result.result) : '') },
      { label: 'Parameters CSV', title: 'Save the fitted parameters, their intervals and every bootstrap replicate', name: 'parameters', make: () => (current ? paramsCsv(current.result.result) : '') },
    ]),
  );

  return {
    update(result, title) {
      current = { result, title };
      const s = result.result;
      renderTitleAndMeta(frame.header, result, title, null, metaItems(result));
      renderTables(tables, s);
      renderDefinitions(frame.notes, result.definitions, s.excluded.length ? [`${s.excluded.length} rows excluded: ${reasons(s)} (hollow points).`] : []);
      draw();
    },
    redraw: draw,
    destroy() {
      frame.tooltip.remove();
      frame.remove();
    },
  };
};

function reasons(s: ScalingPayload): string {
  const n: Record<string, number> = {};
  for (const e of s.excluded) n[e.reason] = (n[e.reason] ?? 0) + 1;
  return Object.entries(n)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
}

/** A colour per model size: position of log N between the smallest and largest size. */
function sizeColour(s: ScalingPayload, theme: Theme): (N: number) => string {
  const all = [...s.rows, ...s.excluded].map((r) => r.N);
  const lo = Math.log(Math.min(...all));
  const hi = Math.log(Math.max(...all));
  return (N) => theme.sequential(hi > lo ? (Math.log(N) - lo) / (hi - lo) : 0.5);
}

function rowInfo(r: ScalingRow, extra: TooltipRow[] = []): TooltipRow[] {
  return [...(r.run ? [['run', r.run] as const] : []), ['N', fmt(r.N)], ['D', fmt(r.D)], ['C', fmt(r.C)], ['loss', fmt(r.loss)], ...(r.step !== null ? [['step', String(r.step)] as const] : []), ...extra];
}

export function scalingCells(s: ScalingPayload, theme: Theme, tooltip: Tooltip): FigureCell[] {
  const colour = sizeColour(s, theme);
  const two = s.variables.length === 2;
  const xVar = two ? 'D' : s.variables[0];
  const xName: Record<string, string> = { N: 'N (parameters)', D: 'D (tokens)', C: 'C (FLOPs)' };
  const cells: FigureCell[] = [];

  // 1. Loss against tokens (or the power law's variable).
  const lines: XyLine[] = s.curves.bySize.map((c) => ({ x: c.x, y: c.loss, lo: c.lo, hi: c.hi, color: c.N === null ? theme.primary : colour(c.N), className: 'lc-scaling-fit' }));
  const points: XyPoint[] = [
    ...s.rows.map((r) => ({ x: r[xVar], y: r.loss, color: colour(r.N), info: rowInfo(r, [['fitted L̂', fmt(r.predicted)]]), data: { n: String(r.N), status: 'fitted' } })),
    ...s.excluded.map((r) => ({ x: r[xVar], y: r.loss, color: colour(r.N), hollow: true, info: rowInfo(r, [['excluded', r.reason]]), data: { n: String(r.N), status: r.reason } })),
  ];
  const markers: XyMarker[] = [];
  const h = s.holdout;
  if (h) {
    markers.push({ x: h.final[xVar], y: h.final.loss, color: theme.foreground, shape: 'ring', info: rowInfo(h.final, [['held out', 'measured']]), className: 'lc-scaling-holdout-measured' });
    markers.push({
      x: h.final[xVar],
      y: h.predicted,
      lo: h.interval?.lo,
      hi: h.interval?.hi,
      color: theme.path,
      shape: 'diamond',
      label: `predicted · ARE ${(100 * h.absoluteRelativeError).toFixed(2)} %`,
      info: [['predicted L̂', fmt(h.predicted)], ['interval', ivText(h.interval)], ['measured L', fmt(h.final.loss)], ['abs. relative error', `${(100 * h.absoluteRelativeError).toFixed(2)} %`]],
      className: 'lc-scaling-holdout',
    });
  }
  const sizes = s.curves.bySize.filter((c) => c.N !== null);
  cells.push((g, w) =>
    xyChart(
      g,
      {
        title: two ? 'Loss against tokens, per model size' : `Loss against ${xVar}`,
        subtitle: 'fit ± bootstrap band',
        xLabel: xName[xVar],
        yLabel: 'loss',
        x: 'log',
        y: 'log',
        lines,
        points,
        markers,
        legend: sizes.length ? [sizes[0], sizes[sizes.length - 1]].map((c) => ({ label: `N = ${fmt(c.N)}`, color: colour(c.N!) })) : [],
      },
      { width: w, height: 340, theme, tooltip },
    ),
  );

  // 2. Iso-FLOP curves with the compute-optimal frontier.
  if (s.curves.isoFlop.length) {
    const iso = s.curves.isoFlop;
    const cLo = Math.log(iso[0].C);
    const cHi = Math.log(iso[iso.length - 1].C);
    const cColour = (C: number): string => theme.sequential(cHi > cLo ? (Math.log(C) - cLo) / (cHi - cLo) : 0.5);
    const isoLines: XyLine[] = iso.map((c) => ({ x: c.x, y: c.loss, lo: c.lo, hi: c.hi, color: cColour(c.C), className: 'lc-scaling-iso' }));
    isoLines.push({ x: iso.map((c) => c.optimum.N), y: iso.map((c) => c.optimum.loss), color: theme.foreground, dash: '5 3', width: 1.5, className: 'lc-scaling-frontier' });
    const optMarkers: XyMarker[] = (s.computeOptimal?.points ?? []).map((p) => ({
      x: p.N,
      y: p.loss,
      xlo: p.intervals?.N.lo,
      xhi: p.intervals?.N.hi,
      color: theme.path,
      shape: 'diamond',
      info: [['C', fmt(p.C)], ['N_opt', `${fmt(p.N)} ${ivText(p.intervals?.N)}`], ['D_opt', `${fmt(p.D)} ${ivText(p.intervals?.D)}`], ['tokens/parameter', `${fmt(p.tokensPerParameter)} ${ivText(p.intervals?.tokensPerParameter)}`], ['L', fmt(p.loss)]],
      className: 'lc-scaling-optimum',
    }));
    cells.push((g, w) =>
      xyChart(
        g,
        {
          title: 'Iso-FLOP curves',
          subtitle: 'C = 6ND fixed; dashed: compute-optimal frontier',
          xLabel: 'N (parameters)',
          yLabel: 'loss',
          x: 'log',
          y: 'log',
          lines: isoLines,
          points: [],
          markers: optMarkers,
          legend: [
            { label: `C = ${fmt(iso[0].C)}`, color: cColour(iso[0].C) },
            { label: `C = ${fmt(iso[iso.length - 1].C)}`, color: cColour(iso[iso.length - 1].C) },
            { label: 'N_opt(C) with interval', color: theme.path, swatch: 'dot' },
          ],
        },
        { width: w, height: 340, theme, tooltip },
      ),
    );
  }

  // 3. Residuals.
  const resPoints: XyPoint[] = s.rows.map((r) => ({ x: r[xVar], y: r.residual, color: colour(r.N), info: rowInfo(r, [['log L̂ − log L', fmt(r.residual)]]), data: { n: String(r.N), status: 'fitted' } }));
  const resMarkers: XyMarker[] = h
    ? [{ x: h.final[xVar], y: Math.log(h.predicted) - Math.log(h.final.loss), color: theme.path, shape: 'diamond', label: 'held out', info: rowInfo(h.final, [['log L̂ − log L', fmt(Math.log(h.predicted) - Math.log(h.final.loss))]]), className: 'lc-scaling-holdout' }]
    : [];
  cells.push((g, w) =>
    xyChart(
      g,
      { title: 'Residuals', subtitle: 'log L̂ − log L', xLabel: xName[xVar], yLabel: 'log L̂ − log L', x: 'log', y: 'linear', lines: [], points: resPoints, markers: resMarkers, hline: 0 },
      { width: w, height: 260, theme, tooltip },
    ),
  );
  return cells;
}

function metaItems(r: ScalingResult): MetaItem[] {
  const s = r.result;
  const p = r.provenance;
  const f = s.fit;
  const items: MetaItem[] = [
    ['Law', `${s.law}: ${s.formula}`],
    ['Runs', p.inputs.map((i) => basename(i.path)).join(', '), p.inputs.map((i) => `${i.path}\nsha256 ${i.sha256}`).join('\n')],
    ['Rows', `${s.rows.length} fitted of ${s.table.rowsRead} read${s.excluded.length ? ` · ${reasons(s)}` : ''}`],
    ['Fit', `Huber δ ${f.huberDelta} · objective ${f.objective.toExponential(4)} · ${f.startsAtBest}/${f.starts} starts at the best`],
    ['Bootstrap', f.bootstrap ? `${f.bootstrap.replicates} replicates · seed ${f.bootstrap.seed} · ${f.bootstrap.startsPerReplicate} starts each` : 'none'],
    ['Computed', `${p.timings.startedAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')} · ${formatSeconds(p.timings.seconds)}`],
  ];
  if (s.holdout) items.splice(3, 0, ['Held out', `${s.holdout.mode === 'run' ? `run ${s.holdout.run}` : 'largest model'}: ARE ${(100 * s.holdout.absoluteRelativeError).toFixed(2)} %`]);
  return items;
}

function renderTables(box: HTMLElement, s: ScalingPayload): void {
  box.replaceChildren();
  const f = s.fit;
  dataTable(box, {
    caption: 'Fitted parameters',
    columns: [{ label: 'parameter' }, { label: 'value', numeric: true }, { label: f.bootstrap ? `${Math.round(f.bootstrap.level * 100)} % interval` : 'interval', numeric: true, title: 'bootstrap percentile interval' }, { label: 'bootstrap median', numeric: true }],
    rows: Object.entries(f.params).map(([k, v]) => [k, fmt(v), ivText(f.intervals?.[k]), fmt(f.intervals?.[k]?.median)]),
  });
  const rows: Cell[][] = s.predictions.map((p) => [Object.entries(p.at).map(([k, v]) => `${k} = ${fmt(v)}`).join(', '), fmt(p.loss), ivText(p.interval)]);
  if (s.holdout) rows.unshift([`held out: N = ${fmt(s.holdout.final.N)}, D = ${fmt(s.holdout.final.D)} (measured ${fmt(s.holdout.final.loss)})`, fmt(s.holdout.predicted), ivText(s.holdout.interval)]);
  if (rows.length) dataTable(box, { caption: 'Predictions', columns: [{ label: 'at' }, { label: 'L̂', numeric: true }, { label: 'interval', numeric: true }], rows });
  const c = s.computeOptimal;
  if (c) {
    dataTable(box, {
      caption: `Compute-optimal allocation: N_opt ∝ C^${c.a.toFixed(3)} ${ivText(c.intervals?.a)}, D_opt ∝ C^${c.b.toFixed(3)} ${ivText(c.intervals?.b)}`,
      className: 'lc-table-wide',
      columns: [{ label: 'C', numeric: true }, { label: 'N_opt', numeric: true }, { label: 'D_opt', numeric: true }, { label: 'tokens / parameter', numeric: true }, { label: 'L̂', numeric: true }],
      rows: c.points.map((p) => [fmt(p.C), `${fmt(p.N)} ${ivText(p.intervals?.N)}`, `${fmt(p.D)} ${ivText(p.intervals?.D)}`, `${fmt(p.tokensPerParameter)} ${ivText(p.intervals?.tokensPerParameter)}`, `${fmt(p.loss)} ${ivText(p.intervals?.loss)}`]),
    });
  }
}

export function rowsCsv(s: ScalingPayload): string {
  const heldOut = new Set(s.holdout?.rows.map((r) => `${r.run}|${r.N}|${r.D}|${r.loss}`) ?? []);
  return toCsv(
    ['run', 'N', 'D', 'C', 'loss', 'step', 'status', 'predicted', 'residual'],
    [
      ...s.rows.map((r) => [r.run, r.N, r.D, r.C, r.loss, r.step, 'fitted', r.predicted, r.residual]),
      ...s.excluded.map((r) => [r.run, r.N, r.D, r.C, r.loss, r.step, heldOut.has(`${r.run}|${r.N}|${r.D}|${r.loss}`) ? 'holdout' : r.reason, null, null]),
    ],
  );
}

export function paramsCsv(s: ScalingPayload): string {
  const names = Object.keys(s.fit.params);
  const rows: (string | number | null)[][] = [
    ['fit', ...names.map((k) => s.fit.params[k])],
    ['lo', ...names.map((k) => s.fit.intervals?.[k]?.lo ?? null)],
    ['hi', ...names.map((k) => s.fit.intervals?.[k]?.hi ?? null)],
    ...(s.fit.bootstrap?.params ?? []).map((p, i) => [`replicate ${i + 1}`, ...names.map((k) => p[k])]),
  ];
  return toCsv(['row', ...names], rows);
}
