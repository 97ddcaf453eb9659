/**
 * Horizontal bars, one per item (per-layer curvature, saliency, pruned shares): label on the
 * left, bar from zero (or from the axis floor on a log axis), an error bar where a standard
 * error exists, an optional min–max range, and the value written at the end.
 *
 *   barChart(g, { title, bars: [{ label, value, error }] }, { width, theme, x: 'log' })
 *
 * The chart's height follows from the number of bars; it is returned with the scale.
 */
import { axisBottom } from 'd3';
import { axisScale, formatValue, formatWithError, isNum, px, type Axis, type AxisKind } from './scales';
import { measureText } from './text';
import type { Theme } from './theme';
import type { Tooltip, TooltipRow } from './tooltip';
import type { SvgG } from './types';

export interface Bar {
  label: string;
  value: number | null;
  /** ± this (a standard error). */
  error?: number | null;
  /** A min–max range drawn as a thin whisker across the bar. */
  range?: readonly [number, number] | null;
  /** Extra read-out rows on hover. */
  details?: ReadonlyArray<TooltipRow>;
}

export interface BarData {
  title?: string;
  subtitle?: string;
  bars: ReadonlyArray<Bar>;
}

export interface BarOptions {
  width: number;
  theme: Theme;
  x?: AxisKind;
  xLabel?: string;
  /** Row height, bar included. */
  rowHeight?: number;
  color?: string;
  format?: (v: number) => string;
  tooltip?: Tooltip;
  /** Cap on the label column; longer labels are cut with an ellipsis (full text on hover). */
  maxLabelWidth?: number;
  /** A fixed value domain, e.g. [0, 1] for shares. */
  domain?: readonly [number, number];
  /** A labelled vertical reference line (e.g. the global share). */
  reference?: { value: number; label: string } | null;
}

export interface BarLayout {
  height: number;
  x: Axis;
  bars: number;
}

const TITLE_H = 22;

export function barChart(g: SvgG, data: BarData, opts: BarOptions): BarLayout {
  const { theme } = opts;
  const fmt = opts.format ?? ((v: number) => formatValue(v));
  const rowH = opts.rowHeight ?? 22;
  const barH = Math.max(6, Math.round(rowH * 0.62));
  const valueText = (b: Bar): string => (isNum(b.value) ? (isNum(b.error) && b.error > 0 ? (opts.format ? `${fmt(b.value)} ± ${fmt(b.error)}` : formatWithError(b.value, b.error)) : fmt(b.value)) : 'not computed');
  g.selectAll('*').remove();
  const labelW = Math.min(opts.maxLabelWidth ?? Math.round(opts.width * 0.32), Math.max(30, ...data.bars.map((b) => measureText(g, b.label, 'lc-bar-label', 11))));
  const left = labelW + 12;
  // Room for the value written after the longest bar (it may also go inside, see below).
  const right = Math.min(Math.round(opts.width * 0.3), Math.max(40, ...data.bars.map((b) => measureText(g, valueText(b), 'lc-bar-value', 11) + 10)));
  const iw = Math.max(40, opts.width - left - right);
  const top = (data.title ? TITLE_H : 4) + (opts.reference ? 14 : 0);
  const ih = Math.max(rowH, data.bars.length * rowH);

  const values: number[] = [];
  for (const b of data.bars) {
    if (!isNum(b.value)) continue;
    values.push(b.value);
    if (isNum(b.error)) values.push(b.value - b.error, b.value + b.error);
    if (b.range) values.push(...b.range.filter(isNum));
  }
  const kind = opts.x ?? 'linear';
  // A log axis spans the positive values; zeros and negatives sit at its left edge.
  const positive = values.filter((v) => v > 0);
  const axis = axisScale(kind, kind === 'log' && positive.length ? positive : values, { zero: kind === 'linear', domain: opts.domain, ticks: Math.max(2, Math.round(iw / 80)) });
  const xs = axis.scale.range([0, iw]);
  const [d0, d1] = xs.domain();
  const base = axis.kind === 'log' ? 0 : px(xs(Math.max(Math.min(d0, d1), Math.min(Math.max(d0, d1), 0))));
  const clamp = (v: number): number => Math.max(0, Math.min(iw, axis.kind === 'log' && v <= 0 ? 0 : xs(v)));
  const color = opts.color ?? theme.primary;

  g.classed('lc-bar-chart', true);
  if (data.title) {
    const tw = measureText(g, data.title, 'lc-panel-title', 12.5);
    g.append('text').attr('class', 'lc-panel-title').attr('x', 0).attr('y', 14).text(data.title);
    if (data.subtitle) g.append('text').attr('class', 'lc-panel-subtitle').attr('x', tw + 8).attr('y', 14).text(data.subtitle);
  }
  const plot = g.append('g').attr('class', 'lc-plot').attr('transform', `translate(${left},${top})`);
  plot
    .append('g')
    .attr('class', 'lc-grid')
    .selectAll('line')
    .data(axis.ticks)
    .join('line')
    .attr('x1', (v) => px(xs(v)))
    .attr('x2', (v) => px(xs(v)))
    .attr('y1', 0)
    .attr('y2', ih)
    .attr('stroke', theme.muted)
    .attr('stroke-opacity', 0.18);

  data.bars.forEach((b, i) => {
    const cy = i * rowH + rowH / 2;
    const row = plot.append('g').attr('class', 'lc-bar-row').attr('data-label', b.label);
    const shown = truncate(g, b.label, labelW);
    const label = row.append('text').attr('class', 'lc-bar-label').attr('x', -8).attr('y', cy).attr('dominant-baseline', 'middle').attr('text-anchor', 'end').text(shown);
    if (shown !== b.label) label.append('title').text(b.label);
    if (!isNum(b.value)) {
      row.append('text').attr('class', 'lc-bar-value').attr('x', base + 4).attr('y', cy).attr('dominant-baseline', 'middle').text('not computed');
      return;
    }
    const end = px(clamp(b.value));
    row
      .append('rect')
      .attr('class', 'lc-bar')
      .attr('x', Math.min(base, end))
      .attr('y', px(cy - barH / 2))
      .attr('width', Math.max(1, Math.abs(end - base)))
      .attr('height', barH)
      .attr('fill', color)
      .attr('fill-opacity', 0.85);
    let reach = Math.max(base, end);
    if (b.range) {
      const [r0, r1] = [clamp(b.range[0]), clamp(b.range[1])].map(px);
      row
        .append('path')
        .attr('class', 'lc-bar-range')
        .attr('d', `M${r0},${cy}H${r1}M${r0},${cy - 4}V${cy + 4}M${r1},${cy - 4}V${cy + 4}`)
        .attr('stroke', theme.foreground)
        .attr('stroke-opacity', 0.6)
        .attr('fill', 'none');
      reach = Math.max(reach, r0, r1);
    }
    if (isNum(b.error) && b.error > 0) {
      const e0 = px(clamp(b.value - b.error));
      const e1 = px(clamp(b.value + b.error));
      row
        .append('path')
        .attr('class', 'lc-error-bar')
        .attr('d', `M${e0},${cy}H${e1}M${e0},${cy - 5}V${cy + 5}M${e1},${cy - 5}V${cy + 5}`)
        .attr('stroke', theme.foreground)
        .attr('stroke-width', 1.25)
        .attr('fill', 'none');
      reach = Math.max(reach, e0, e1);
    }
    row
      .append('text')
      .attr('class', 'lc-bar-value')
      .attr('x', reach + 5)
      .attr('y', cy)
      .attr('dominant-baseline', 'middle')
      .text(valueText(b));
    if (opts.tooltip) {
      const tip = opts.tooltip;
      const rows: TooltipRow[] = [
        ['', b.label],
        ['value', fmt(b.value)],
      ];
      if (isNum(b.error)) rows.push(['± stderr', fmt(b.error)]);
      if (b.range) rows.push(['range', `${fmt(b.range[0])} … ${fmt(b.range[1])}`]);
      rows.push(...(b.details ?? []));
      row
        .append('rect')
        .attr('class', 'lc-hover-target')
        .attr('x', -left)
        .attr('y', i * rowH)
        .attr('width', left + iw)
        .attr('height', rowH)
        .attr('fill', 'transparent')
        .on('mousemove', (event: MouseEvent) => tip.show(event, rows))
        .on('mouseleave', () => tip.hide());
    }
  });
  if (opts.reference && Number.isFinite(xs(opts.reference.value))) {
    const rx = px(clamp(opts.reference.value));
    const ref = plot.append('g').attr('class', 'lc-reference');
    ref.append('line').attr('x1', rx).attr('x2', rx).attr('y1', -4).attr('y2', ih).attr('stroke', theme.foreground).attr('stroke-dasharray', '4 3');
    ref
      .append('text')
      .attr('class', 'lc-mark-label')
      .attr('x', rx + 4)
      .attr('y', -6)
      .attr('fill', theme.foreground)
      .text(opts.reference.label);
  }
  if (axis.kind !== 'log') plot.append('line').attr('class', 'lc-bar-base').attr('x1', base).attr('x2', base).attr('y1', 0).attr('y2', ih).attr('stroke', theme.muted);

  plot
    .append('g')
    .attr('class', 'lc-axis lc-axis-x')
    .attr('transform', `translate(0,${ih})`)
    .call(axisBottom(xs).tickValues(axis.ticks).tickFormat((v) => axis.format(+v)).tickSizeOuter(0));
  let height = top + ih + 24;
  if (opts.xLabel) {
    g.append('text').attr('class', 'lc-axis-label').attr('x', left + iw / 2).attr('y', top + ih + 36).attr('text-anchor', 'middle').text(opts.xLabel);
    height += 16;
  }
  return { height, x: axis, bars: data.bars.length };
}

/** The label cut with an ellipsis to fit `width` (the full label goes in a hover title). */
function truncate(g: SvgG, label: string, width: number): string {
  if (measureText(g, label, 'lc-bar-label', 11) <= width) return label;
  let n = label.length - 1;
  while (n > 3 && measureText(g, `${label.slice(0, n)}…`, 'lc-bar-label', 11) > width) n--;
  return `${label.slice(0, n)}…`;
}
