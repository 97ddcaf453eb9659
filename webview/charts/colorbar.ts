/**
 * A vertical colour bar for contour levels: one band per level, in the same colours as the
 * contour fills, with an axis in loss units on the right.
 *
 *   colorbar(g, { height, levels, theme, label: 'loss' })
 *
 * Bands are placed by colour position, so on a log scale the axis is logarithmic above the
 * minimum and the bar still reads like the plot.
 */
import { axisRight } from 'd3';
import { levelScale, type Levels } from './levels';
import type { SvgG } from './types';
import type { Theme } from './theme';

export interface ColorbarOptions {
  height: number;
  levels: Levels;
  theme: Theme;
  /** Bar width in pixels. */
  width?: number;
  label?: string;
}

export function colorbar(g: SvgG, opts: ColorbarOptions): void {
  const w = opts.width ?? 14;
  const h = opts.height;
  const { levels } = opts;
  const count = levels.thresholds.length;
  g.selectAll('*').remove();
  g.attr('class', 'lc-colorbar');
  const bands = Array.from({ length: count }, (_, k) => ({
    k,
    // Level k fills from its threshold to the next one: colour positions k/n … (k+1)/n.
    y0: h - (h * k) / count,
    y1: h - (h * (k + 1)) / count,
  }));
  g.append('g')
    .attr('class', 'lc-colorbar-bands')
    .selectAll('rect')
    .data(bands)
    .join('rect')
    .attr('x', 0)
    .attr('y', (b) => b.y1)
    .attr('width', w)
    // A hair of overlap hides the anti-aliasing seams between bands.
    .attr('height', (b) => b.y0 - b.y1 + 0.5)
    .attr('fill', (b) => opts.theme.interpolate(count > 1 ? b.k / (count - 1) : 0));
  g.append('rect')
    .attr('class', 'lc-colorbar-frame')
    .attr('width', w)
    .attr('height', h)
    .attr('fill', 'none')
    .attr('stroke', opts.theme.muted)
    .attr('stroke-width', 1);
  g.append('g')
    .attr('class', 'lc-axis lc-axis-colorbar')
    .attr('transform', `translate(${w},0)`)
    .call(axisRight(levelScale(levels, h, 0)).tickValues(levels.ticks()).tickFormat((v) => levels.format(+v)).tickSizeOuter(0));
  if (opts.label) {
    g.append('text')
      .attr('class', 'lc-axis-label')
      .attr('x', 0)
      .attr('y', -10)
      .attr('text-anchor', 'start')
      .text(opts.label);
  }
}
