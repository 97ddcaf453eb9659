/**
 * One xy chart with log or linear axes, for fitted curves against data: lines with optional
 * shaded bands (lo…hi), scatter points (filled, or hollow for excluded rows), and markers with
 * interval bars (a prediction against its measured value, a compute-optimal point), plus an
 * optional horizontal reference line (residual 0). Hovering shows the nearest point's rows.
 *
 *   xyChart(g, { title, xLabel, yLabel, x: 'log', y: 'log', lines, points, markers }, { width, height, theme, tooltip })
 */
import { axisBottom, axisLeft, area, line, scaleLinear } from 'd3';
import { chartTitle, gridLines, hoverTarget, plotArea } from './plotFrame';
import { legend, legendRows, legendWidths, type LegendItem } from './legend';
import { axisScale, px, type AxisKind } from './scales';
import type { Theme } from './theme';
import type { Tooltip, TooltipRow } from './tooltip';
import type { SvgG } from './types';

export interface XyLine {
  x: ReadonlyArray<number>;
  y: ReadonlyArray<number>;
  lo?: ReadonlyArray<number>;
  hi?: ReadonlyArray<number>;
  color: string;
  dash?: string;
  width?: number;
  className?: string;
}

export interface XyPoint {
  x: number;
  y: number;
  color: string;
  hollow?: boolean;
  /** Hover read-out rows. */
  info: ReadonlyArray<TooltipRow>;
  /** Extra data attributes for tests and styling, e.g. { n: '7e7' }. */
  data?: Record<string, string>;
}

export interface XyMarker {
  x: number;
  y: number;
  /** Vertical interval. */
  lo?: number;
  hi?: number;
  /** Horizontal interval. */
  xlo?: number;
  xhi?: number;
  color: string;
  shape: 'diamond' | 'ring';
  label?: string;
  info: ReadonlyArray<TooltipRow>;
  className?: string;
}

export interface XyData {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  x: AxisKind;
  y: AxisKind;
  lines: ReadonlyArray<XyLine>;
  points: ReadonlyArray<XyPoint>;
  markers?: ReadonlyArray<XyMarker>;
  /** Horizontal reference line (e.g. residual 0). */
  hline?: number;
  legend?: ReadonlyArray<LegendItem>;
}

export interface XyOptions {
  width: number;
  height: number;
  theme: Theme;
  tooltip?: Tooltip;
}

const M = { top: 26, right: 16, bottom: 42, left: 60 };

const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);

/** Draws the chart into `g`; returns the height used. */
export function xyChart(g: SvgG, d: XyData, opts: XyOptions): number {
  const { theme } = opts;
  g.selectAll('*').remove();
  g.classed('lc-xy', true);
  const items = d.legend ?? [];
  const legendH = items.length ? legendRows(legendWidths(g, items), opts.width - M.left - M.right).length * 15 : 0;
  const top = M.top + legendH;
  const iw = Math.max(60, opts.width - M.left - M.right);
  const ih = Math.max(60, opts.height - top - M.bottom);

  const xs: number[] = [];
  const ys: number[] = [];
  for (const l of d.lines) {
    xs.push(...l.x);
    ys.push(...l.y, ...(l.lo ?? []), ...(l.hi ?? []));
  }
  for (const p of d.points) {
    xs.push(p.x);
    ys.push(p.y);
  }
  for (const m of d.markers ?? []) {
    xs.push(m.x, ...[m.xlo, m.xhi].filter(finite));
    ys.push(m.y, ...[m.lo, m.hi].filter(finite));
  }
  if (d.hline !== undefined) ys.push(d.hline);
  const okX = (v: number): boolean => Number.isFinite(v) && (d.x !== 'log' || v > 0);
  const okY = (v: number): boolean => Number.isFinite(v) && (d.y !== 'log' || v > 0);
  const xAxis = axisScale(d.x, xs.filter(okX), { ticks: Math.max(2, Math.round(iw / 90)), nice: false });
  const yAxis = axisScale(d.y, ys.filter(okY), { ticks: Math.max(2, Math.round(ih / 40)) });
  // Within one decade, 1-2-5 ticks are too few: tick a log axis like a linear one there.
  for (const ax of [xAxis, yAxis]) {
    const [lo, hi] = ax.scale.domain();
    if (ax.kind === 'log' && hi / lo < 10) ax.ticks = scaleLinear().domain([lo, hi]).ticks(ax === xAxis ? Math.max(2, Math.round(iw / 90)) : Math.max(2, Math.round(ih / 40)));
  }
  const sx = xAxis.scale.range([0, iw]);
  const sy = yAxis.scale.range([ih, 0]);
  const X = (v: number): number => px(sx(v));
  const Y = (v: number): number => px(Math.max(-4, Math.min(ih + 4, sy(v))));

  chartTitle(g, d.title, d.subtitle, 0, 13);
  if (items.length) legend(g, items, { left: M.left, y: M.top - 4, maxWidth: iw });
  const plot = plotArea(g, 'lc-xy-plot', M.left, top, iw, ih, theme);
  gridLines(plot, yAxis.ticks, Y, iw, theme);
  const clip = `lc-xy-clip-${Math.random().toString(36).slice(2)}`;
  plot.append('clipPath').attr('id', clip).append('rect').attr('width', iw).attr('height', ih);
  const layer = plot.append('g').attr('clip-path', `url(#${clip})`);
  if (d.hline !== undefined) layer.append('line').attr('class', 'lc-xy-hline').attr('x1', 0).attr('x2', iw).attr('y1', Y(d.hline)).attr('y2', Y(d.hline)).attr('stroke', theme.foreground).attr('stroke-dasharray', '6 3');

  for (const l of d.lines) {
    const idx = l.x.map((_, i) => i);
    if (l.lo && l.hi) {
      const lo = l.lo;
      const hi = l.hi;
      const band = area<number>()
        .defined((i) => okX(l.x[i]) && okY(lo[i]) && okY(hi[i]))
        .x((i) => X(l.x[i]))
        .y0((i) => Y(lo[i]))
        .y1((i) => Y(hi[i]));
      layer.append('path').attr('class', `lc-xy-band ${l.className ?? ''}-band`).attr('d', band(idx) ?? '').attr('fill', l.color).attr('fill-opacity', 0.15);
    }
    const path = line<number>()
      .defined((i) => okX(l.x[i]) && okY(l.y[i]))
      .x((i) => X(l.x[i]))
      .y((i) => Y(l.y[i]));
    layer
      .append('path')
      .attr('class', `lc-xy-line ${l.className ?? ''}`)
      .attr('d', path(idx) ?? '')
      .attr('fill', 'none')
      .attr('stroke', l.color)
      .attr('stroke-width', l.width ?? 1.75)
      .attr('stroke-dasharray', l.dash ?? null);
  }

  const shown = d.points.filter((p) => okX(p.x) && okY(p.y));
  const dots = layer
    .append('g')
    .attr('class', 'lc-xy-points')
    .selectAll('circle')
    .data(shown)
    .join('circle')
    .attr('class', (p) => (p.hollow ? 'lc-xy-point lc-xy-point-hollow' : 'lc-xy-point'))
    .attr('cx', (p) => X(p.x))
    .attr('cy', (p) => Y(p.y))
    .attr('r', 3)
    .attr('fill', (p) => (p.hollow ? 'none' : p.color))
    .attr('fill-opacity', 0.85)
    .attr('stroke', (p) => p.color)
    .attr('stroke-width', (p) => (p.hollow ? 1.25 : 0.5));
  dots.nodes().forEach((node, i) => {
    if (node instanceof Element) for (const [k, v] of Object.entries(shown[i].data ?? {})) node.setAttribute(`data-${k}`, v);
  });

  const markers = (d.markers ?? []).filter((m) => okX(m.x) && okY(m.y));
  const mg = plot.append('g').attr('class', 'lc-xy-markers');
  for (const m of markers) {
    const g1 = mg.append('g').attr('class', `lc-xy-marker ${m.className ?? ''}`);
    const cx = X(m.x);
    const cy = Y(m.y);
    if (finite(m.lo) && finite(m.hi) && okY(m.lo) && okY(m.hi)) {
      g1.append('line').attr('class', 'lc-xy-interval').attr('x1', cx).attr('x2', cx).attr('y1', Y(m.lo)).attr('y2', Y(m.hi)).attr('stroke', m.color).attr('stroke-width', 1.5);
      for (const v of [m.lo, m.hi]) g1.append('line').attr('x1', cx - 4).attr('x2', cx + 4).attr('y1', Y(v)).attr('y2', Y(v)).attr('stroke', m.color).attr('stroke-width', 1.5);
    }
    if (finite(m.xlo) && finite(m.xhi) && okX(m.xlo) && okX(m.xhi)) {
      g1.append('line').attr('class', 'lc-xy-interval').attr('x1', X(m.xlo)).attr('x2', X(m.xhi)).attr('y1', cy).attr('y2', cy).attr('stroke', m.color).attr('stroke-width', 1.5);
    }
    if (m.shape === 'diamond') {
      g1.append('path').attr('d', `M${cx},${cy - 6}L${cx + 6},${cy}L${cx},${cy + 6}L${cx - 6},${cy}Z`).attr('fill', m.color).attr('stroke', theme.background).attr('stroke-width', 1);
    } else {
      g1.append('circle').attr('cx', cx).attr('cy', cy).attr('r', 6).attr('fill', 'none').attr('stroke', m.color).attr('stroke-width', 2);
    }
    if (m.label) {
      // Left of the mark when it sits in the right third (the label would run off the plot).
      const left = cx > (2 * iw) / 3;
      g1.append('text')
        .attr('class', 'lc-mark-label')
        .attr('x', left ? cx - 9 : cx + 9)
        .attr('text-anchor', left ? 'end' : 'start')
        .attr('y', cy - 8)
        .attr('fill', m.color)
        .attr('stroke', theme.background)
        .attr('stroke-width', 3)
        .attr('paint-order', 'stroke')
        .text(m.label);
    }
  }

  plot.append('g').attr('class', 'lc-axis lc-axis-x').attr('transform', `translate(0,${ih})`).call(axisBottom(sx).tickValues(xAxis.ticks).tickFormat((v) => xAxis.format(+v)).tickSizeOuter(0));
  plot.append('g').attr('class', 'lc-axis lc-axis-y').call(axisLeft(sy).tickValues(yAxis.ticks).tickFormat((v) => yAxis.format(+v)).tickSizeOuter(0));
  plot.append('text').attr('class', 'lc-axis-label').attr('x', iw / 2).attr('y', ih + 34).attr('text-anchor', 'middle').text(d.xLabel);
  plot.append('text').attr('class', 'lc-axis-label').attr('transform', `translate(${-46},${ih / 2}) rotate(-90)`).attr('text-anchor', 'middle').text(d.yLabel);

  if (opts.tooltip) {
    const tip = opts.tooltip;
    const targets: { x: number; y: number; info: ReadonlyArray<TooltipRow> }[] = [
      ...shown.map((p) => ({ x: X(p.x), y: Y(p.y), info: p.info })),
      ...markers.map((m) => ({ x: X(m.x), y: Y(m.y), info: m.info })),
    ];
    hoverTarget(
      plot,
      iw,
      ih,
      (event, [mx, my]) => {
        let best: (typeof targets)[number] | null = null;
        let bd = 14 * 14;
        for (const t of targets) {
          const dd = (t.x - mx) ** 2 + (t.y - my) ** 2;
          if (dd < bd) {
            bd = dd;
            best = t;
          }
        }
        if (best) tip.show(event, best.info);
        else tip.hide();
      },
      () => tip.hide(),
    );
  }
  return top + ih + M.bottom;
}
