/**
 * The frame the XY-style charts (line, density, eigenvalues, the generic XY chart) draw into:
 * a title with its subtitle, the plot area with its outline, horizontal grid lines at the y
 * ticks, and a transparent hover target over the plot. One place, so that the charts look
 * alike and a change of style is made once.
 */
import { pointer } from 'd3';
import { measureText } from './text';
import type { Theme } from './theme';
import type { SvgG } from './types';

/** Title at (x, y), the subtitle after it in the lighter style. */
export function chartTitle(g: SvgG, title: string, subtitle: string | undefined, x: number, y: number): void {
  g.append('text').attr('class', 'lc-panel-title').attr('x', x).attr('y', y).text(title);
  if (subtitle) g.append('text').attr('class', 'lc-panel-subtitle').attr('x', x + measureText(g, title, 'lc-panel-title', 12.5) + 8).attr('y', y).text(subtitle);
}

/** The plot group at (left, top), outlined; `className` names it for styling and tests. */
export function plotArea(g: SvgG, className: string, left: number, top: number, iw: number, ih: number, theme: Theme): SvgG {
  const plot = g.append('g').attr('class', className).attr('transform', `translate(${left},${top})`);
  plot.append('rect').attr('class', 'lc-plot-bg').attr('width', iw).attr('height', ih).attr('fill', 'none').attr('stroke', theme.muted).attr('stroke-opacity', 0.35);
  return plot;
}

/** Horizontal grid lines at the y ticks, under what is drawn after them. */
export function gridLines(plot: SvgG, ticks: ReadonlyArray<number>, y: (v: number) => number, iw: number, theme: Theme, opacity = 0.18): void {
  plot
    .append('g')
    .attr('class', 'lc-grid')
    .selectAll('line')
    .data(ticks)
    .join('line')
    .attr('x1', 0)
    .attr('x2', iw)
    .attr('y1', (v) => y(v))
    .attr('y2', (v) => y(v))
    .attr('stroke', theme.muted)
    .attr('stroke-opacity', opacity);
}

/** A transparent rectangle over the plot that reports the pointer in plot coordinates. */
export function hoverTarget(plot: SvgG, iw: number, ih: number, onMove: (event: MouseEvent, at: [number, number]) => void, onLeave: () => void): void {
  plot
    .append('rect')
    .attr('class', 'lc-hover-target')
    .attr('width', iw)
    .attr('height', ih)
    .attr('fill', 'transparent')
    .on('mousemove', (event: MouseEvent) => onMove(event, pointer(event) as [number, number]))
    .on('mouseleave', onLeave);
}
