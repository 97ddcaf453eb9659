/**
 * Filled contours of a 2D loss grid (d3-contour), with axes, the centre θ marked, an optional
 * path overlay and a hover read-out.
 *
 *   contourChart(g, { x, y, loss, accuracy, path }, { width, height, levels, theme })
 *
 * Redraws everything in `g` on each call, so a partial result re-renders as rows stream in.
 * Rows not computed yet are left out and the rest of the plane shows as pending. With
 * `rowsDone`, a null inside a finished row is a point where the loss was not finite (it blew
 * up there): it is drawn as a gap (marked cell, no contour through it) and its row is kept.
 * Without it, only the longest run of complete rows is contoured.
 */
import { axisBottom, axisLeft, contours, line, scaleLinear } from 'd3';
import type { ScaleLinear } from 'd3';
import { hoverTarget } from './plotFrame';
import { coordAt, nearestIndex, rowsToDraw, type Cells, type RowRange } from './grid';
import type { Levels } from './levels';
import type { Theme } from './theme';
import type { Tooltip, TooltipRow } from './tooltip';
import type { Margin, SvgG } from './types';

export interface PathPoint {
  label: string;
  x: number;
  y: number;
}

export interface ContourData {
  x: ReadonlyArray<number>;
  y: ReadonlyArray<number>;
  /** One row per y, one column per x; null where not computed. */
  loss: Cells;
  accuracy?: Cells | null;
  path?: ReadonlyArray<PathPoint>;
  /** The point the plane is centred on (θ at α = β = 0); omitted when null. */
  center?: { x: number; y: number; label: string } | null;
  /** Why rows are missing when the run is not computing any more (cancelled, interrupted). */
  stoppedReason?: string;
  /** Rows the engine has finished (from the start); their null cells are non-finite losses. */
  rowsDone?: number;
}

export interface ContourOptions {
  /** Outer size, axes included. */
  width: number;
  height: number;
  levels: Levels;
  theme: Theme;
  xLabel?: string;
  yLabel?: string;
  margin?: Partial<Margin>;
  tooltip?: Tooltip;
  /** Formats loss and accuracy in the read-out. */
  formatValue?: (v: number) => string;
}

export interface ContourLayout {
  x: ScaleLinear<number, number>;
  y: ScaleLinear<number, number>;
  margin: Margin;
  /** Rows contoured, or null when fewer than two are complete. */
  rows: RowRange | null;
  /** Level paths drawn (levels whose region is empty are skipped). */
  levelsDrawn: number;
}

const DEFAULT_MARGIN: Margin = { top: 8, right: 12, bottom: 44, left: 56 };

const round = (v: number): number => Math.round(v * 100) / 100;

export function contourChart(g: SvgG, data: ContourData, opts: ContourOptions): ContourLayout {
  const margin = { ...DEFAULT_MARGIN, ...opts.margin };
  const iw = Math.max(10, opts.width - margin.left - margin.right);
  const ih = Math.max(10, opts.height - margin.top - margin.bottom);
  const nx = data.x.length;
  const ny = data.y.length;
  const xs = scaleLinear().domain([data.x[0], data.x[nx - 1]]).range([0, iw]);
  const ys = scaleLinear().domain([data.y[0], data.y[ny - 1]]).range([ih, 0]);

  g.selectAll('*').remove();
  g.attr('class', 'lc-contour-chart');
  const plot = g.append('g').attr('class', 'lc-plot').attr('transform', `translate(${margin.left},${margin.top})`);
  plot.append('rect').attr('class', 'lc-pending').attr('width', iw).attr('height', ih);

  const found = rowsToDraw(data.loss, data.rowsDone);
  const rows = found && found.end - found.start >= 2 ? found : null;
  const levels = opts.levels;
  let levelsDrawn = 0;
  const gaps: { r: number; c: number }[] = [];
  if (rows) {
    const nr = rows.end - rows.start;
    const values = new Float64Array(nx * nr);
    // A gap takes a value below every level, so that no level's region covers it.
    const below = (levels.thresholds.length ? Math.min(...levels.thresholds) : 0) - 1;
    for (let r = 0; r < nr; r++) {
      const row = data.loss[rows.start + r];
      for (let c = 0; c < nx; c++) {
        const v = row[c];
        if (v === null || v === undefined || !Number.isFinite(v)) {
          values[r * nx + c] = below;
          gaps.push({ r: rows.start + r, c });
        } else values[r * nx + c] = v;
      }
    }
    // d3-contour puts value [r][c] at (c + 0.5, r + 0.5) in grid units; map back to (α, β).
    const px = (u: number): number => round(xs(coordAt(data.x, u - 0.5)));
    const py = (v: number): number => round(ys(coordAt(data.y, rows.start + v - 0.5, rows.start, rows.end - 1)));
    const polys = contours().size([nx, nr]).thresholds(levels.thresholds)(Array.from(values));
    const count = levels.thresholds.length;
    const color = (k: number): string => opts.theme.interpolate(count > 1 ? k / (count - 1) : 0);
    const paths = polys
      .map((mp, k) => ({ k, value: mp.value, d: multiPolygonPath(mp.coordinates, px, py) }))
      .filter((p) => p.d !== '');
    levelsDrawn = paths.length;
    plot
      .append('g')
      .attr('class', 'lc-contours')
      .selectAll('path')
      .data(paths)
      .join('path')
      .attr('class', 'lc-contour')
      .attr('data-level', (p) => p.k)
      .attr('data-value', (p) => p.value)
      .attr('d', (p) => p.d)
      .attr('fill', (p) => color(p.k))
      .attr('stroke', opts.theme.contourStroke)
      .attr('stroke-opacity', opts.theme.contourStrokeOpacity)
      .attr('stroke-width', 0.6)
      .attr('stroke-linejoin', 'round');
  }
  if (gaps.length) {
    const cw = Math.abs(xs(coordAt(data.x, 1)) - xs(coordAt(data.x, 0)));
    const ch = Math.abs(ys(coordAt(data.y, 1)) - ys(coordAt(data.y, 0)));
    plot
      .append('g')
      .attr('class', 'lc-gaps')
      .selectAll('rect')
      .data(gaps)
      .join('rect')
      .attr('class', 'lc-gap')
      .attr('x', (p) => round(xs(data.x[p.c]) - cw / 2))
      .attr('y', (p) => round(ys(data.y[p.r]) - ch / 2))
      .attr('width', round(cw))
      .attr('height', round(ch))
      .append('title')
      .text((p) => `loss not finite at (${data.x[p.c]}, ${data.y[p.r]})`);
  }
  if (!rows || rows.end - rows.start < ny) {
    const done = rows ? rows.end - rows.start : 0;
    const top = rows ? ys(coordAt(data.y, rows.end - 1)) : ih;
    plot
      .append('text')
      .attr('class', 'lc-pending-label')
      .attr('x', iw / 2)
      .attr('y', Math.max(16, top / 2))
      .attr('text-anchor', 'middle')
      .text(data.stoppedReason ? `${data.stoppedReason}: ${done} of ${ny} rows computed` : `computing… ${done} of ${ny} rows`);
  }

  drawAxes(g, xs, ys, margin, iw, ih, opts);
  if (data.path && data.path.length > 0) drawPath(plot, data.path, xs, ys, opts.theme);
  if (data.center) drawCenter(plot, data.center, xs, ys, opts.theme);
  if (opts.tooltip) attachHover(plot, data, xs, ys, iw, ih, opts, opts.tooltip);
  return { x: xs, y: ys, margin, rows, levelsDrawn };
}

function multiPolygonPath(
  polygons: number[][][][],
  px: (u: number) => number,
  py: (v: number) => number,
): string {
  let d = '';
  for (const polygon of polygons) {
    for (const ring of polygon) {
      for (let i = 0; i < ring.length; i++) d += `${i ? 'L' : 'M'}${px(ring[i][0])},${py(ring[i][1])}`;
      if (ring.length) d += 'Z';
    }
  }
  return d;
}

function drawAxes(
  g: SvgG,
  xs: ScaleLinear<number, number>,
  ys: ScaleLinear<number, number>,
  m: Margin,
  iw: number,
  ih: number,
  opts: ContourOptions,
): void {
  const ticksX = Math.max(2, Math.round(iw / 80));
  const ticksY = Math.max(2, Math.round(ih / 60));
  g.append('g')
    .attr('class', 'lc-axis lc-axis-x')
    .attr('transform', `translate(${m.left},${m.top + ih})`)
    .call(axisBottom(xs).ticks(ticksX).tickSizeOuter(0));
  g.append('g')
    .attr('class', 'lc-axis lc-axis-y')
    .attr('transform', `translate(${m.left},${m.top})`)
    .call(axisLeft(ys).ticks(ticksY).tickSizeOuter(0));
  g.append('text')
    .attr('class', 'lc-axis-label')
    .attr('x', m.left + iw / 2)
    .attr('y', m.top + ih + 36)
    .attr('text-anchor', 'middle')
    .text(opts.xLabel ?? 'α');
  g.append('text')
    .attr('class', 'lc-axis-label')
    .attr('transform', `translate(${m.left - 42},${m.top + ih / 2}) rotate(-90)`)
    .attr('text-anchor', 'middle')
    .text(opts.yLabel ?? 'β');
}

function drawPath(
  plot: SvgG,
  path: ReadonlyArray<PathPoint>,
  xs: ScaleLinear<number, number>,
  ys: ScaleLinear<number, number>,
  theme: Theme,
): void {
  const layer = plot.append('g').attr('class', 'lc-path');
  const d = line<PathPoint>()
    .x((p) => xs(p.x))
    .y((p) => ys(p.y))(path as PathPoint[]);
  layer.append('path').attr('d', d ?? '').attr('fill', 'none').attr('stroke', theme.background).attr('stroke-width', 4).attr('stroke-opacity', 0.7);
  layer.append('path').attr('d', d ?? '').attr('fill', 'none').attr('stroke', theme.path).attr('stroke-width', 2);
  const last = path.length - 1;
  const pts = layer
    .selectAll('g')
    .data(path)
    .join('g')
    .attr('class', 'lc-path-point')
    .attr('transform', (p) => `translate(${round(xs(p.x))},${round(ys(p.y))})`);
  pts.append('title').text((p) => p.label);
  // The start hollow, the end larger: the direction of travel reads without arrows.
  pts
    .append('circle')
    .attr('r', (_, i) => (i === last && last > 0 ? 4.5 : 3.5))
    .attr('fill', (_, i) => (i === 0 && last > 0 ? theme.background : theme.path))
    .attr('stroke', (_, i) => (i === 0 && last > 0 ? theme.path : theme.background))
    .attr('stroke-width', (_, i) => (i === 0 && last > 0 ? 2 : 1.5));
  const labels = pts
    .append('text')
    .attr('class', 'lc-mark-label')
    .attr('x', 6)
    .attr('y', -6)
    .attr('fill', theme.foreground)
    .attr('stroke', theme.background)
    .attr('stroke-width', 3)
    .attr('paint-order', 'stroke')
    .text((p) => p.label);
  // Measured where the text is laid out (0 when it is not, e.g. in a hidden panel: then estimated).
  const widths = labels.nodes().map((t, i) => t.getComputedTextLength?.() || path[i].label.length * 6.6);
  const keep = labelledPoints(path, xs, ys, widths);
  labels.filter((_, i) => !keep.has(i)).remove();
}

/**
 * Indices of the path points whose label is drawn: the first and the last, then every other
 * one whose label box (right of and above the point) overlaps no box kept so far. The rest
 * keep their point and a hover title.
 */
export function labelledPoints(
  path: ReadonlyArray<PathPoint>,
  xs: (v: number) => number,
  ys: (v: number) => number,
  widths: ReadonlyArray<number> = path.map((p) => p.label.length * 6.6),
): Set<number> {
  const boxes: [number, number, number, number][] = [];
  const kept = new Set<number>();
  const order = path.length > 1 ? [0, path.length - 1, ...path.map((_, i) => i).slice(1, -1)] : [0];
  for (const i of order) {
    const x = xs(path[i].x) + 6;
    const y = ys(path[i].y) - 17;
    const box: [number, number, number, number] = [x - 2, y, x + widths[i] + 4, y + 14];
    const free = boxes.every(([a, b, c, e]) => box[2] <= a || box[0] >= c || box[3] <= b || box[1] >= e);
    if (free || i === 0 || i === path.length - 1) {
      boxes.push(box);
      kept.add(i);
    }
  }
  return kept;
}

function drawCenter(
  plot: SvgG,
  c: { x: number; y: number; label: string },
  xs: ScaleLinear<number, number>,
  ys: ScaleLinear<number, number>,
  theme: Theme,
): void {
  const [x0, x1] = xs.domain();
  const [y0, y1] = ys.domain();
  const inside = (v: number, a: number, b: number): boolean => v >= Math.min(a, b) && v <= Math.max(a, b);
  if (!inside(c.x, x0, x1) || !inside(c.y, y0, y1)) return;
  const mark = plot.append('g').attr('class', 'lc-center').attr('transform', `translate(${round(xs(c.x))},${round(ys(c.y))})`);
  // A cross in a ring, haloed so it reads on both ends of the colour map.
  const cross = 'M-8,0H-3M3,0H8M0,-8V-3M0,3V8';
  mark.append('path').attr('d', cross).attr('stroke', theme.background).attr('stroke-width', 4).attr('stroke-linecap', 'round');
  mark.append('circle').attr('r', 4).attr('fill', 'none').attr('stroke', theme.background).attr('stroke-width', 4);
  mark.append('path').attr('d', cross).attr('stroke', theme.center).attr('stroke-width', 1.5).attr('stroke-linecap', 'round');
  mark.append('circle').attr('r', 4).attr('fill', 'none').attr('stroke', theme.center).attr('stroke-width', 1.5);
  mark
    .append('text')
    .attr('class', 'lc-mark-label')
    .attr('x', 9)
    .attr('y', 14)
    .attr('fill', theme.foreground)
    .attr('stroke', theme.background)
    .attr('stroke-width', 3)
    .attr('paint-order', 'stroke')
    .text(c.label);
}

function attachHover(
  plot: SvgG,
  data: ContourData,
  xs: ScaleLinear<number, number>,
  ys: ScaleLinear<number, number>,
  iw: number,
  ih: number,
  opts: ContourOptions,
  tooltip: Tooltip,
): void {
  const fmt = opts.formatValue ?? opts.levels.format;
  const dot = plot
    .append('circle')
    .attr('class', 'lc-hover-dot')
    .attr('r', 3)
    .attr('fill', 'none')
    .attr('stroke', opts.theme.foreground)
    .attr('stroke-width', 1.5)
    .attr('display', 'none');
  hoverTarget(
    plot,
    iw,
    ih,
    (event, [mx, my]) => {
      const i = nearestIndex(data.x, xs.invert(mx));
      const j = nearestIndex(data.y, ys.invert(my));
      const loss = data.loss[j]?.[i] ?? null;
      const acc = data.accuracy?.[j]?.[i] ?? null;
      const rows: TooltipRow[] = [
        ['α', data.x[i].toPrecision(3)],
        ['β', data.y[j].toPrecision(3)],
        ['loss', loss !== null ? fmt(loss) : data.rowsDone !== undefined && j < data.rowsDone ? 'not finite' : 'not computed'],
      ];
      if (data.accuracy) rows.push(['accuracy', acc === null ? '—' : `${(acc * 100).toFixed(1)} %`]);
      dot.attr('display', null).attr('cx', xs(data.x[i])).attr('cy', ys(data.y[j]));
      tooltip.show(event, rows);
    },
    () => {
      dot.attr('display', 'none');
      tooltip.hide();
    },
  );
}
