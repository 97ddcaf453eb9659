/**
 * A one-line legend: a swatch (line, dashed line, dot or box) and a label per item, laid out
 * right to left from `right` or left to right from `left`, wrapping onto further rows when it
 * would run past `maxWidth`.
 *
 *   legend(g, items, { right: 400, y: 10, maxWidth: 300 })  // → rows used
 */
import { measureText } from './text';
import type { SvgG } from './types';

export interface LegendItem {
  label: string;
  color: string;
  dash?: string | null;
  /** 'line' (default), 'dot', 'box' (bars, bands). */
  swatch?: 'line' | 'dot' | 'box';
  width?: number;
}

export interface LegendOptions {
  /** Anchor: the legend ends at `right`, or starts at `left`. */
  right?: number;
  left?: number;
  y: number;
  maxWidth?: number;
  rowHeight?: number;
}

const SWATCH = 24;
const SPACING = 14;

/** Each item's width (swatch, label, spacing), measured in `g`. */
export function legendWidths(g: SvgG, items: ReadonlyArray<LegendItem>): number[] {
  return items.map((it) => SWATCH + measureText(g, it.label, 'lc-legend-label') + SPACING);
}

/** Items per row when wrapped at `maxWidth`, greedily in order. */
export function legendRows(widths: ReadonlyArray<number>, maxWidth: number): number[][] {
  const rows: number[][] = [[]];
  let used = 0;
  widths.forEach((w, i) => {
    if (rows[rows.length - 1].length > 0 && used + w > maxWidth) {
      rows.push([]);
      used = 0;
    }
    rows[rows.length - 1].push(i);
    used += w;
  });
  return rows;
}

export function legend(g: SvgG, items: ReadonlyArray<LegendItem>, opts: LegendOptions): number {
  const root = g.append('g').attr('class', 'lc-legend');
  if (items.length === 0) return 0;
  const rowH = opts.rowHeight ?? 15;
  const widths = legendWidths(root, items);
  const rows = legendRows(widths, opts.maxWidth ?? Infinity);
  rows.forEach((row, r) => {
    // The last item's trailing spacing is not drawn: right-aligned rows end flush.
    const total = row.reduce((a, i) => a + widths[i], 0) - SPACING;
    let x = opts.right !== undefined ? opts.right - total : (opts.left ?? 0);
    const y = opts.y + r * rowH;
    for (const i of row) {
      const it = items[i];
      const item = root.append('g').attr('class', 'lc-legend-item').attr('transform', `translate(${x},${y})`);
      const kind = it.swatch ?? 'line';
      if (kind === 'dot') item.append('circle').attr('cx', 9).attr('cy', 0).attr('r', 3.5).attr('fill', it.color);
      else if (kind === 'box') item.append('rect').attr('x', 3).attr('y', -5).attr('width', 12).attr('height', 10).attr('fill', it.color).attr('fill-opacity', 0.8);
      else
        item
          .append('line')
          .attr('x1', 0)
          .attr('x2', 18)
          .attr('y1', 0)
          .attr('y2', 0)
          .attr('stroke', it.color)
          .attr('stroke-width', it.width ?? 2)
          .attr('stroke-dasharray', it.dash ?? null);
      item.append('text').attr('class', 'lc-legend-label').attr('x', 22).attr('y', 0).attr('dominant-baseline', 'middle').text(it.label);
      x += widths[i];
    }
  });
  return rows.length;
}
