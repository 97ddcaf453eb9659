/**
 * A 1D landscape: loss along a direction, optionally accuracy on a second axis, the centre θ
 * marked, and a hover read-out.
 *
 *   lineChart(g, { t, loss, accuracy, center }, { width, height, theme, yScale: 'log' })
 *
 * Null points (not computed yet) are gaps in the line, never zeros.
 */
import { axisBottom, axisLeft, axisRight, extent, format, line, scaleLinear, scaleLog, scaleSymlog } from 'd3';
import { gridLines, hoverTarget } from './plotFrame';
import type { ScaleContinuousNumeric } from 'd3';
import { nearestIndex } from './grid';
import type { Theme } from './theme';
import type { Tooltip, TooltipRow } from './tooltip';
import type { Margin, SvgG } from './types';

export interface LineData {
  t: ReadonlyArray<number>;
  loss: ReadonlyArray<number | null>;
  accuracy?: ReadonlyArray<number | null> | null;
  center?: { t: number; loss: number; label: string } | null;
  /** Labelled positions on the t axis, e.g. the two models of an interpolation. */
  markers?: ReadonlyArray<{ t: number; label: string }>;
}

export interface LineOptions {
  width: number;
  height: number;
  theme: Theme;
  yScale?: 'linear' | 'log';
  xLabel?: string;
  yLabel?: string;
  margin?: Partial<Margin>;
  tooltip?: Tooltip;
  formatValue?: (v: number) => string;
}

export interface LineLayout {
  x: ScaleContinuousNumeric<number, number>;
  y: ScaleContinuousNumeric<number, number>;
  /** Points on the loss line. */
  points: number;
}

interface Pt {
  t: number;
  v: number | null;
}

const isNum = (v: number | null | undefined): v is number => v !== null && v !== undefined && Number.isFinite(v);

export function lineChart(g: SvgG, data: LineData, opts: LineOptions): LineLayout {
  const hasAcc = !!data.accuracy && data.accuracy.some(isNum);
  const margin: Margin = { top: 24, right: hasAcc ? 56 : 16, bottom: 44, left: 60, ...opts.margin };
  const iw = Math.max(10, opts.width - margin.left - margin.right);
  const ih = Math.max(10, opts.height - margin.top - margin.bottom);
  const fmt = opts.formatValue ?? ((v: number) => v.toPrecision(4));
  const { theme } = opts;

  const [t0, t1] = extent(data.t) as [number, number];
  const xs = scaleLinear().domain([t0 ?? 0, t1 ?? 1]).range([0, iw]);
  const known = data.loss.filter(isNum);
  if (data.center && Number.isFinite(data.center.loss)) known.push(data.center.loss);
  const [lo, hi] = known.length ? (extent(known) as [number, number]) : [0, 1];
  const ys = lossScale(lo, hi, opts.yScale ?? 'linear').range([ih, 0]);

  g.selectAll('*').remove();
  g.attr('class', 'lc-line-chart');
  const plot = g.append('g').attr('class', 'lc-plot').attr('transform', `translate(${margin.left},${margin.top})`);
  const ticksY = Math.max(2, Math.round(ih / 50));
  const yTicks = lossTicks(ys, ticksY, opts.yScale === 'log' && lo > 0);
  gridLines(plot, yTicks, (v) => ys(v), iw, theme, 0.25);

  for (const m of data.markers ?? []) drawRule(plot, xs(m.t), ih, m.label, theme);
  if (data.center && !(data.markers ?? []).some((m) => m.t === data.center?.t)) drawRule(plot, xs(data.center.t), ih, '', theme);

  const pts: Pt[] = data.t.map((t, i) => ({ t, v: data.loss[i] ?? null }));
  const lossLine = line<Pt>()
    .defined((p) => isNum(p.v))
    .x((p) => xs(p.t))
    .y((p) => ys(p.v ?? 0));
  plot.append('path').attr('class', 'lc-line lc-line-loss').attr('d', lossLine(pts) ?? '').attr('fill', 'none').attr('stroke', theme.primary).attr('stroke-width', 2).attr('stroke-linejoin', 'round');

  let accScale: ScaleContinuousNumeric<number, number> | null = null;
  if (hasAcc && data.accuracy) {
    const accs = data.accuracy.filter(isNum);
    const [a0, a1] = extent(accs) as [number, number];
    // Accuracy is a fraction: show 0..1 unless the values sit in a narrow band.
    accScale = scaleLinear().domain(a1 - a0 > 0.2 || a1 === a0 ? [0, 1] : [a0, a1]).nice().range([ih, 0]);
    const acc = accScale;
    const accPts: Pt[] = data.t.map((t, i) => ({ t, v: data.accuracy?.[i] ?? null }));
    const accLine = line<Pt>()
      .defined((p) => isNum(p.v))
      .x((p) => xs(p.t))
      .y((p) => acc(p.v ?? 0));
    plot.append('path').attr('class', 'lc-line lc-line-accuracy').attr('d', accLine(accPts) ?? '').attr('fill', 'none').attr('stroke', theme.secondary).attr('stroke-width', 1.5).attr('stroke-dasharray', '5 3');
    g.append('g')
      .attr('class', 'lc-axis lc-axis-y2')
      .attr('transform', `translate(${margin.left + iw},${margin.top})`)
      .call(axisRight(acc).ticks(ticksY, '.0%').tickSizeOuter(0));
    g.append('text')
      .attr('class', 'lc-axis-label')
      .attr('transform', `translate(${margin.left + iw + 48},${margin.top + ih / 2}) rotate(90)`)
      .attr('text-anchor', 'middle')
      .text('accuracy');
  }

  if (data.center && Number.isFinite(data.center.loss)) {
    const c = plot.append('g').attr('class', 'lc-center').attr('transform', `translate(${xs(data.center.t)},${ys(data.center.loss)})`);
    c.append('circle').attr('r', 4.5).attr('fill', theme.primary).attr('stroke', theme.background).attr('stroke-width', 2);
    c.append('text').attr('class', 'lc-mark-label').attr('x', 8).attr('y', -8).attr('fill', theme.foreground).attr('stroke', theme.background).attr('stroke-width', 3).attr('paint-order', 'stroke').text(data.center.label);
  }

  g.append('g').attr('class', 'lc-axis lc-axis-x').attr('transform', `translate(${margin.left},${margin.top + ih})`).call(axisBottom(xs).ticks(Math.max(2, Math.round(iw / 80))).tickSizeOuter(0));
  g.append('g').attr('class', 'lc-axis lc-axis-y').attr('transform', `translate(${margin.left},${margin.top})`).call(axisLeft(ys).tickValues(yTicks).tickFormat(format('.3~g')).tickSizeOuter(0));
  g.append('text').attr('class', 'lc-axis-label').attr('x', margin.left + iw / 2).attr('y', margin.top + ih + 36).attr('text-anchor', 'middle').text(opts.xLabel ?? 't');
  g.append('text').attr('class', 'lc-axis-label').attr('transform', `translate(${margin.left - 46},${margin.top + ih / 2}) rotate(-90)`).attr('text-anchor', 'middle').text(opts.yLabel ?? 'loss');
  drawLegend(g, margin.left + iw, margin.top - 10, hasAcc, theme);

  if (opts.tooltip) {
    const tooltip = opts.tooltip;
    const rule = plot.append('line').attr('class', 'lc-hover-rule').attr('y1', 0).attr('y2', ih).attr('stroke', theme.muted).attr('display', 'none');
    hoverTarget(
      plot,
      iw,
      ih,
      (event, [mx]) => {
        const i = nearestIndex(data.t, xs.invert(mx));
        const loss = data.loss[i];
        const rows: TooltipRow[] = [['t', data.t[i].toPrecision(3)], ['loss', isNum(loss) ? fmt(loss) : 'not computed']];
        const a = data.accuracy?.[i];
        if (hasAcc) rows.push(['accuracy', isNum(a) ? `${(a * 100).toFixed(1)} %` : '—']);
        rule.attr('display', null).attr('x1', xs(data.t[i])).attr('x2', xs(data.t[i]));
        tooltip.show(event, rows);
      },
      () => {
        rule.attr('display', 'none');
        tooltip.hide();
      },
    );
  }
  return { x: xs, y: ys, points: pts.filter((p) => isNum(p.v)).length };
}

/** Log when every loss is positive; otherwise symlog, which is defined at zero and below. */
function lossScale(lo: number, hi: number, kind: 'linear' | 'log'): ScaleContinuousNumeric<number, number> {
  const pad = hi > lo ? 0 : Math.abs(hi) * 0.1 || 1;
  // No nice() on a log scale: it rounds out to whole decades and squashes the curve.
  if (kind === 'log' && lo > 0) {
    const margin = Math.pow(hi / lo, 0.04) || 1.1;
    return scaleLog().domain([lo / margin, (hi + pad) * margin]);
  }
  if (kind === 'log') return scaleSymlog().constant(Math.max((hi - lo) * 1e-3, 1e-12)).domain([lo, hi + pad]);
  return scaleLinear().domain([lo, hi + pad]).nice();
}

/** Tick values: on a log axis only 1, 2, 5 × 10^k (or decades), labelled and gridded alike. */
function lossTicks(ys: ScaleContinuousNumeric<number, number>, count: number, log: boolean): number[] {
  const all = ys.ticks(count);
  if (!log) return all;
  const mantissa = (v: number): number => Math.round(v / Math.pow(10, Math.floor(Math.log10(v) + 1e-9)));
  const few = all.filter((v) => [1, 2, 5].includes(mantissa(v)));
  const decades = all.filter((v) => mantissa(v) === 1);
  return few.length <= count + 2 && few.length >= 2 ? few : decades.length >= 2 ? decades : all;
}

function drawRule(plot: SvgG, x: number, ih: number, label: string, theme: Theme): void {
  const r = plot.append('g').attr('class', 'lc-rule').attr('transform', `translate(${x},0)`);
  r.append('line').attr('y1', 0).attr('y2', ih).attr('stroke', theme.muted).attr('stroke-dasharray', '3 3');
  if (label) r.append('text').attr('class', 'lc-mark-label').attr('x', 4).attr('y', 12).attr('fill', theme.muted).text(label);
}

function drawLegend(g: SvgG, right: number, y: number, hasAcc: boolean, theme: Theme): void {
  const items = [{ label: 'loss', color: theme.primary, dash: null as string | null }];
  if (hasAcc) items.push({ label: 'accuracy', color: theme.secondary, dash: '5 3' });
  const legend = g.append('g').attr('class', 'lc-legend').attr('transform', `translate(${right},${y})`);
  let x = 0;
  for (const it of [...items].reverse()) {
    const w = 26 + it.label.length * 6.5;
    x -= w;
    const item = legend.append('g').attr('transform', `translate(${x},0)`);
    item.append('line').attr('x1', 0).attr('x2', 18).attr('y1', 0).attr('y2', 0).attr('stroke', it.color).attr('stroke-width', 2).attr('stroke-dasharray', it.dash);
    item.append('text').attr('class', 'lc-legend-label').attr('x', 22).attr('y', 0).attr('dominant-baseline', 'middle').text(it.label);
  }
}
