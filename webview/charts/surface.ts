/**
 * A pseudo-3D view of a 2D loss grid: the surface z = loss(α, β) seen from above at an angle,
 * drawn as projected quads painted back to front (the painter's algorithm), so it is plain
 * SVG that exports like the contour plot.
 *
 *   surfaceChart(g, { x, y, loss }, { width, height, levels, theme, azimuth: 35 })
 *
 * Height is the colour position (levels.unit), so the linear/log toggle shapes the surface
 * the same way it colours it. Large grids are downsampled to `maxCells` per side: beyond
 * ~60 quads a side the facets are smaller than a pixel and only cost time.
 */
import { format, rgb } from 'd3';
import { coordAt, rowsToDraw, strided, type Cells, type RowRange } from './grid';
import type { Levels } from './levels';
import type { Theme } from './theme';
import type { SvgG } from './types';

export interface SurfaceData {
  x: ReadonlyArray<number>;
  y: ReadonlyArray<number>;
  loss: Cells;
  /** Centre θ in plane coordinates with its loss, marked on the surface. */
  center?: { x: number; y: number; loss: number } | null;
  /**
   * Rows the engine has finished (from the start); a null inside them is a point where the loss
   * was not finite: the facets touching it are left out (a hole), the rest of the row is drawn.
   * Without it, the longest run of complete rows is drawn.
   */
  rowsDone?: number;
}

export interface SurfaceOptions {
  width: number;
  height: number;
  levels: Levels;
  theme: Theme;
  /** Rotation about the vertical axis, degrees. */
  azimuth?: number;
  /** Camera height above the plane, degrees. */
  elevation?: number;
  maxCells?: number;
  xLabel?: string;
  yLabel?: string;
  /** Hover read-out of the facet under the pointer (α, β, loss), or null when it leaves. */
  onHover?: (event: MouseEvent, at: { x: number; y: number; loss: number } | null) => void;
}

export interface SurfaceLayout {
  quads: number;
  rows: RowRange | null;
}

type P3 = readonly [number, number, number];
type P2 = readonly [number, number];

const rad = Math.PI / 180;
const r2 = (v: number): number => Math.round(v * 100) / 100;

export function surfaceChart(g: SvgG, data: SurfaceData, opts: SurfaceOptions): SurfaceLayout {
  const az = (opts.azimuth ?? 35) * rad;
  const el = (opts.elevation ?? 30) * rad;
  const { levels, theme } = opts;
  const nx = data.x.length;
  const ny = data.y.length;
  const [xa, xb] = [data.x[0], data.x[nx - 1]];
  const [ya, yb] = [data.y[0], data.y[ny - 1]];
  // World: the plane is [-1, 1]², height is [-0.5, 0.5].
  const wx = (v: number): number => (xb === xa ? 0 : (2 * (v - xa)) / (xb - xa) - 1);
  const wy = (v: number): number => (yb === ya ? 0 : (2 * (v - ya)) / (yb - ya) - 1);
  const wz = (loss: number): number => levels.unit(loss) - 0.5;
  const [ca, sa, ce, se] = [Math.cos(az), Math.sin(az), Math.cos(el), Math.sin(el)];
  // Fit the box for every azimuth, so the view does not jump in size while rotating.
  // 0.86: room on the left for the loss axis's labels.
  const k = 0.86 * Math.min(opts.width / (2 * Math.SQRT2), opts.height / (2 * (Math.SQRT2 * se + 0.5 * ce)));
  const cx = opts.width / 2 + 8;
  const cy = opts.height / 2;
  const project = ([X, Y, Z]: P3): { p: P2; depth: number } => {
    const xr = X * ca - Y * sa;
    const yr = X * sa + Y * ca;
    return { p: [cx + k * xr, cy - k * (Z * ce + yr * se)], depth: yr * ce - Z * se };
  };

  g.selectAll('*').remove();
  g.attr('class', 'lc-surface-chart');
  const base: P3[] = [[-1, -1, -0.5], [1, -1, -0.5], [1, 1, -0.5], [-1, 1, -0.5]];
  g.append('path')
    .attr('class', 'lc-surface-base')
    .attr('d', polyPath(base.map((b) => project(b).p)))
    .attr('fill', 'none')
    .attr('stroke', theme.muted)
    .attr('stroke-dasharray', '3 3');
  drawEdgeLabels(g, project, data, opts);

  const found = rowsToDraw(data.loss, data.rowsDone);
  const rows = found && found.end - found.start >= 2 ? found : null;
  if (!rows) return { quads: 0, rows: null };
  const ri = strided(rows.end - rows.start, opts.maxCells ?? 60).map((r) => r + rows.start);
  const ci = strided(nx, opts.maxCells ?? 60);
  const finite = (r: number, c: number): boolean => {
    const v = data.loss[r][c];
    return v !== null && v !== undefined && Number.isFinite(v);
  };
  const point = (r: number, c: number): P3 => [wx(data.x[c]), wy(data.y[r]), wz(data.loss[r][c] ?? levels.min)];
  const light = normalize([-0.4, -0.6, 1]);
  const quads: { d: string; depth: number; fill: string; r: number; c: number }[] = [];
  for (let a = 0; a + 1 < ri.length; a++) {
    for (let b = 0; b + 1 < ci.length; b++) {
      // A facet through a non-finite point would invent its height: leave a hole instead.
      if (!finite(ri[a], ci[b]) || !finite(ri[a], ci[b + 1]) || !finite(ri[a + 1], ci[b + 1]) || !finite(ri[a + 1], ci[b])) continue;
      const corners = [point(ri[a], ci[b]), point(ri[a], ci[b + 1]), point(ri[a + 1], ci[b + 1]), point(ri[a + 1], ci[b])];
      const proj = corners.map(project);
      const mean = (corners[0][2] + corners[1][2] + corners[2][2] + corners[3][2]) / 4;
      // Lambert shading from a fixed light gives the facets depth without hiding the colour.
      const n = normalize(cross(sub(corners[2], corners[0]), sub(corners[3], corners[1])));
      const shade = Math.abs(dot(n, light));
      const fill = rgb(theme.interpolate(mean + 0.5)).darker((1 - shade) * 0.9).formatHex();
      quads.push({ d: polyPath(proj.map((q) => q.p)), depth: (proj[0].depth + proj[1].depth + proj[2].depth + proj[3].depth) / 4, fill, r: ri[a], c: ci[b] });
    }
  }
  quads.sort((p, q) => q.depth - p.depth);
  g.append('g')
    .attr('class', 'lc-surface-quads')
    .selectAll('path')
    .data(quads)
    .join('path')
    .attr('class', 'lc-quad')
    .attr('d', (q) => q.d)
    .attr('fill', (q) => q.fill)
    .attr('stroke', (q) => q.fill)
    .attr('stroke-width', 0.6)
    .attr('stroke-linejoin', 'round');
  if (opts.onHover) {
    const hover = opts.onHover;
    g.select<SVGGElement>('.lc-surface-quads')
      .selectAll<SVGPathElement, (typeof quads)[number]>('path')
      .on('mousemove', (event: MouseEvent, q) => {
        const v = data.loss[q.r][q.c];
        if (finite(q.r, q.c)) hover(event, { x: data.x[q.c], y: data.y[q.r], loss: v as number });
      })
      .on('mouseleave', (event: MouseEvent) => hover(event, null));
  }
  drawLossAxis(g, project, levels, theme);

  if (data.center && Number.isFinite(data.center.loss)) {
    const c = project([wx(data.center.x), wy(data.center.y), wz(data.center.loss)]).p;
    g.append('circle')
      .attr('class', 'lc-center')
      .attr('cx', r2(c[0]))
      .attr('cy', r2(c[1]))
      .attr('r', 4)
      .attr('fill', theme.path)
      .attr('stroke', theme.background)
      .attr('stroke-width', 1.5);
  }
  return { quads: quads.length, rows };
}

/**
 * The loss axis: a vertical scale at the base corner drawn furthest left (so it never hides
 * behind the surface), ticked in loss units at the heights the surface uses.
 */
function drawLossAxis(g: SvgG, project: (p: P3) => { p: P2; depth: number }, levels: Levels, theme: Theme): void {
  const corners: [number, number][] = [[-1, -1], [1, -1], [1, 1], [-1, 1]];
  const [X, Y] = corners.reduce((best, c) => (project([c[0], c[1], -0.5]).p[0] < project([best[0], best[1], -0.5]).p[0] ? c : best));
  const at = (loss: number): P2 => project([X, Y, levels.unit(loss) - 0.5]).p;
  const axis = g.append('g').attr('class', 'lc-surface-loss-axis');
  const [b, t] = [project([X, Y, -0.5]).p, project([X, Y, 0.5]).p];
  axis.append('line').attr('x1', r2(b[0])).attr('y1', r2(b[1])).attr('x2', r2(t[0])).attr('y2', r2(t[1])).attr('stroke', theme.muted);
  for (const v of levels.ticks()) {
    const p = at(v);
    const tick = axis.append('g').attr('class', 'tick');
    tick.append('line').attr('x1', r2(p[0] - 5)).attr('y1', r2(p[1])).attr('x2', r2(p[0])).attr('y2', r2(p[1])).attr('stroke', theme.muted);
    tick.append('text').attr('class', 'lc-tick-label').attr('x', r2(p[0] - 8)).attr('y', r2(p[1])).attr('text-anchor', 'end').attr('dominant-baseline', 'middle').text(levels.format(v));
  }
  axis.append('text').attr('class', 'lc-axis-label').attr('x', r2(t[0])).attr('y', r2(t[1] - 12)).attr('text-anchor', 'middle').text('loss');
}

function drawEdgeLabels(
  g: SvgG,
  project: (p: P3) => { p: P2 },
  data: SurfaceData,
  opts: SurfaceOptions,
): void {
  const nx = data.x.length;
  const ny = data.y.length;
  const fmt = format('.3~g');
  // Axis names at the middle of two base edges, coordinate values at both ends of each.
  const labels: { at: P3; text: string; cls: string }[] = [
    { at: [0, -1.3, -0.5], text: opts.xLabel ?? 'α', cls: 'lc-axis-label' },
    { at: [-1.3, 0, -0.5], text: opts.yLabel ?? 'β', cls: 'lc-axis-label' },
    { at: [-0.9, -1.14, -0.5], text: fmt(coordAt(data.x, 0)), cls: 'lc-tick-label' },
    { at: [0.9, -1.14, -0.5], text: fmt(coordAt(data.x, nx - 1)), cls: 'lc-tick-label' },
    { at: [-1.14, -0.9, -0.5], text: fmt(coordAt(data.y, 0)), cls: 'lc-tick-label' },
    { at: [-1.14, 0.9, -0.5], text: fmt(coordAt(data.y, ny - 1)), cls: 'lc-tick-label' },
  ];
  g.append('g')
    .attr('class', 'lc-surface-labels')
    .selectAll('text')
    .data(labels)
    .join('text')
    .attr('class', (l) => l.cls)
    .attr('x', (l) => r2(project(l.at).p[0]))
    .attr('y', (l) => r2(project(l.at).p[1]))
    .attr('text-anchor', 'middle')
    .attr('dominant-baseline', 'middle')
    .text((l) => l.text);
}

function polyPath(ps: ReadonlyArray<P2>): string {
  return ps.map((p, i) => `${i ? 'L' : 'M'}${r2(p[0])},${r2(p[1])}`).join('') + 'Z';
}
function sub(a: P3, b: P3): P3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}
function cross(a: P3, b: P3): P3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}
function dot(a: P3, b: P3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
function normalize(a: P3): P3 {
  const n = Math.hypot(a[0], a[1], a[2]) || 1;
  return [a[0] / n, a[1] / n, a[2] / n];
}
