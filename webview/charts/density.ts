/**
 * A spectral density on a logarithmic density axis (as PyHessian and Ghorbani et al. plot it:
 * the bulk near zero and the few outliers both stay visible), with the Ritz values of stochastic
 * Lanczos quadrature as a rug under it and labelled vertical markers (λ_max, 0).
 *
 *   densityChart(g, { x, density, nodes, weights }, { width, height, theme, floor: 1e-6 })
 *
 * log(0) is −∞: every density below `floor × peak` is drawn at that floor, so no path holds a
 * NaN or an infinity and the axis spans at most the decades that carry information.
 */
import { area, axisBottom, axisLeft, line } from 'd3';
import { chartTitle, gridLines, hoverTarget, plotArea } from './plotFrame';
import { axisScale, formatValue, isNum, logTicks, px, type Axis } from './scales';
import type { Theme } from './theme';
import type { Tooltip } from './tooltip';
import type { Margin, SvgG } from './types';
import { nearestIndex } from './grid';

export interface DensityData {
  x: ReadonlyArray<number>;
  density: ReadonlyArray<number>;
  /** Ritz values, one list per random start. */
  nodes?: ReadonlyArray<ReadonlyArray<number>>;
  /** Quadrature weights, same shape as nodes (rug opacity). */
  weights?: ReadonlyArray<ReadonlyArray<number>>;
  markers?: ReadonlyArray<{ value: number; label: string; color?: string }>;
  title?: string;
  subtitle?: string;
}

export interface DensityOptions {
  width: number;
  height: number;
  theme: Theme;
  /** Densities below floor × peak are drawn at the floor (default 1e-6). */
  floor?: number;
  margin?: Partial<Margin>;
  tooltip?: Tooltip;
  xLabel?: string;
}

export interface DensityLayout {
  x: Axis;
  y: Axis;
  /** Absolute density floor used. */
  floor: number;
  points: number;
}

export function densityChart(g: SvgG, data: DensityData, opts: DensityOptions): DensityLayout {
  const { theme } = opts;
  const margin: Margin = { top: data.title ? 30 : 10, right: 14, bottom: 40, left: 60, ...opts.margin };
  const iw = Math.max(40, opts.width - margin.left - margin.right);
  const ih = Math.max(40, opts.height - margin.top - margin.bottom);
  const finite = data.density.filter((v) => isNum(v) && v > 0);
  const peak = finite.length ? Math.max(...finite) : 1;
  const floor = peak * (opts.floor ?? 1e-6);
  const dens = data.x.map((_, i) => {
    const v = data.density[i];
    return isNum(v) && v > floor ? v : floor;
  });

  const xVals = [...data.x, ...(data.markers ?? []).map((m) => m.value)];
  const xAxis = axisScale('linear', xVals, { ticks: Math.max(2, Math.round(iw / 80)) });
  const xs = xAxis.scale.range([0, iw]);
  const lo = floor;
  const hi = peak * 2;
  const yAxis = axisScale('log', [lo, hi]);
  const ys = yAxis.scale.domain([lo, hi]).range([ih, 0]);
  yAxis.ticks = logTicks(lo, hi, Math.max(3, Math.round(ih / 34)));

  g.selectAll('*').remove();
  g.classed('lc-density-chart', true);
  if (data.title) chartTitle(g, data.title, data.subtitle, margin.left, 16);
  const plot = plotArea(g, 'lc-plot', margin.left, margin.top, iw, ih, theme);
  gridLines(plot, yAxis.ticks, (v) => px(ys(v)), iw, theme);

  const idx = data.x.map((_, i) => i);
  const fill = area<number>()
    .x((i) => px(xs(data.x[i])))
    .y0(ih)
    .y1((i) => px(ys(dens[i])));
  const curve = line<number>()
    .x((i) => px(xs(data.x[i])))
    .y((i) => px(ys(dens[i])));
  plot.append('path').attr('class', 'lc-density-area').attr('d', fill(idx) ?? '').attr('fill', theme.primary).attr('fill-opacity', 0.15);
  plot.append('path').attr('class', 'lc-density-line').attr('d', curve(idx) ?? '').attr('fill', 'none').attr('stroke', theme.primary).attr('stroke-width', 1.75).attr('stroke-linejoin', 'round');

  if (data.nodes) {
    const rug = plot.append('g').attr('class', 'lc-rug');
    data.nodes.forEach((row, s) =>
      row.forEach((v, j) => {
        if (!isNum(v)) return;
        const w = data.weights?.[s]?.[j];
        const op = isNum(w) ? Math.max(0.2, Math.min(1, Math.sqrt(w) * 2)) : 0.5;
        const x = px(xs(v));
        rug.append('line').attr('x1', x).attr('x2', x).attr('y1', ih).attr('y2', ih - 7).attr('stroke', theme.foreground).attr('stroke-opacity', op);
      }),
    );
  }
  for (const m of data.markers ?? []) {
    const x = px(xs(m.value));
    const c = m.color ?? theme.secondary;
    const mk = plot.append('g').attr('class', 'lc-marker');
    mk.append('line').attr('x1', x).attr('x2', x).attr('y1', 0).attr('y2', ih).attr('stroke', c).attr('stroke-dasharray', '4 3').attr('stroke-width', 1.25);
    // Along the line, on its left, reading upwards from the top: clear of the curve beside it.
    mk.append('text')
      .attr('class', 'lc-mark-label')
      .attr('transform', `translate(${px(x - 5)},4) rotate(-90)`)
      .attr('text-anchor', 'end')
      .attr('fill', c)
      .attr('stroke', theme.background)
      .attr('stroke-width', 3)
      .attr('paint-order', 'stroke')
      .text(m.label);
  }

  g.append('g')
    .attr('class', 'lc-axis lc-axis-x')
    .attr('transform', `translate(${margin.left},${margin.top + ih})`)
    .call(axisBottom(xs).tickValues(xAxis.ticks).tickFormat((v) => xAxis.format(+v)).tickSizeOuter(0));
  g.append('g')
    .attr('class', 'lc-axis lc-axis-y')
    .attr('transform', `translate(${margin.left},${margin.top})`)
    .call(axisLeft(ys).tickValues(yAxis.ticks).tickFormat((v) => yAxis.format(+v)).tickSizeOuter(0));
  g.append('text').attr('class', 'lc-axis-label').attr('x', margin.left + iw / 2).attr('y', margin.top + ih + 34).attr('text-anchor', 'middle').text(opts.xLabel ?? 'eigenvalue λ');
  g.append('text')
    .attr('class', 'lc-axis-label')
    .attr('transform', `translate(${margin.left - 46},${margin.top + ih / 2}) rotate(-90)`)
    .attr('text-anchor', 'middle')
    .text('density (log)');

  if (opts.tooltip && data.x.length) {
    const tip = opts.tooltip;
    const dot = plot.append('circle').attr('class', 'lc-hover-dot').attr('r', 3).attr('fill', theme.primary).attr('display', 'none');
    hoverTarget(
      plot,
      iw,
      ih,
      (event, [mx]) => {
        const i = nearestIndex(data.x, xs.invert(mx));
        dot.attr('display', null).attr('cx', px(xs(data.x[i]))).attr('cy', px(ys(dens[i])));
        tip.show(event, [
          ['λ', formatValue(data.x[i])],
          ['density', formatValue(data.density[i], 3)],
        ]);
      },
      () => {
        dot.attr('display', 'none');
        tip.hide();
      },
    );
  }
  return { x: xAxis, y: yAxis, floor, points: data.x.length };
}
