/**
 * Pieces the result panels share beyond the frame: the caption drawn inside the SVG (so an
 * exported figure says what it shows), the export tool group (SVG, PNG, one CSV button per
 * table), a box for HTML tables between the figure and the notes, and the panel width.
 */
import type { SvgG } from '../charts/types';
import { exportFigure, safeFileName } from '../export';
import { button, toolGroup } from './controls';
import { el, type Frame } from './frame';
import type { PanelContext } from './panel';

export const CAPTION_H = 44;

/** Title and subtitle at the top of the SVG; sets its accessible label. */
export function caption(svg: Frame['svg'], title: string, subtitle: string): void {
  svg.attr('aria-label', `${title}: ${subtitle}`);
  svg.append('text').attr('class', 'lc-figure-title').attr('x', 8).attr('y', 18).text(title);
  svg.append('text').attr('class', 'lc-figure-subtitle').attr('x', 8).attr('y', 35).text(subtitle);
}

/** Clears the SVG for a redraw. */
export function clearSvg(frame: Frame): void {
  frame.svg.selectAll('*').remove();
  frame.tooltip.hide();
}

export function sizeSvg(frame: Frame, width: number, height: number): void {
  const h = Math.ceil(height);
  frame.svg.attr('width', width).attr('height', h).attr('viewBox', `0 0 ${width} ${h}`);
}

/** The width to draw at: the figure's width, within [min, max]. */
export function figureWidth(frame: Frame, min = 360, max = 980): number {
  return Math.max(min, Math.min(max, frame.figure.clientWidth || 760));
}

export interface CsvExport {
  /** Button text, e.g. `CSV` or `Density CSV`. */
  label: string;
  title: string;
  /** File name stem (the panel title is prefixed). */
  name: string;
  make(): string;
}

/** SVG and PNG of the figure, then one button per CSV table. */
export function exportGroup(frame: Frame, ctx: PanelContext, name: () => string, csvs: ReadonlyArray<CsvExport>): HTMLElement {
  const fig = (format: 'svg' | 'png') => (): void =>
    exportFigure(frame.svgNode, format, name(), ctx.theme().background, ctx.exportSink, (e) => ctx.report('error', `Export failed: ${e.message}`));
  return toolGroup(
    'Export',
    button('SVG', 'Save the figure as SVG', fig('svg')),
    button('PNG', 'Save the figure as PNG (2×)', fig('png')),
    ...csvs.map((c) =>
      button(c.label, c.title, () => ctx.exportSink({ format: 'csv', suggestedName: safeFileName(`${name()} ${c.name}`, 'csv'), data: c.make() })),
    ),
  );
}

/** A container for tables, placed after the figure. */
export function tableBox(frame: Frame): HTMLElement {
  const box = el('div', 'lc-tables');
  frame.figure.after(box);
  return box;
}

export function spacer(): HTMLElement {
  return el('div', 'lc-spacer');
}

/** Draws into `g` at `width` and returns the height used. */
export type FigureCell = (g: SvgG, width: number) => number;

/**
 * Lays cells out two to a row when each gets at least `minColumn` pixels, else one per row,
 * from `top` down; returns the bottom. A lone last cell takes the full width.
 */
export function cellGrid(parent: SvgG, cells: ReadonlyArray<FigureCell>, width: number, top: number, minColumn = 380, gap = 24): number {
  const two = (width - gap) / 2 >= minColumn;
  let y = top;
  for (let i = 0; i < cells.length; i += two ? 2 : 1) {
    const row = two && i + 1 < cells.length ? [cells[i], cells[i + 1]] : [cells[i]];
    const w = row.length === 2 ? Math.floor((width - gap) / 2) : width;
    let h = 0;
    row.forEach((cell, j) => {
      const g: SvgG = parent.append('g').attr('class', 'lc-cell').attr('transform', `translate(${j * (w + gap)},${y})`);
      h = Math.max(h, cell(g, w));
    });
    y += h + gap;
  }
  return y - gap;
}
