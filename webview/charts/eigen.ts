/**
 * Eigenvalues as stems (a dot on a line from zero), largest first, then — after a gap — the
 * smallest ones, with each eigenpair's residual ‖Av − λv‖ as an error bar: for a symmetric
 * operator some eigenvalue lies within the residual of λ, so the bar is a guaranteed interval.
 *
 *   eigenChart(g, { top: { values, residuals }, bottom }, { width, height, theme, y: 'log' })
 *
 * On a log axis with negative eigenvalues the axis is symlog (see scales.ts).
 */
import { axisLeft } from 'd3';
import { chartTitle, gridLines, plotArea } from './plotFrame';
import { axisScale, formatValue, isNum, px, type Axis, type AxisKind } from './scales';
import { measureText } from './text';
import type { Theme } from './theme';
import type { Tooltip, TooltipRow } from './tooltip';
import type { Margin, SvgG } from './types';

export interface EigenSet {
  values: ReadonlyArray<number>;
  residuals: ReadonlyArray<number>;
}

export interface EigenData {
  /** Largest eigenvalues, descending. */
  top: EigenSet;
  /** Smallest eigenvalues, ascending. */
  bottom?: EigenSet | null;
  title?: string;
  subtitle?: string;
}

export interface EigenOptions {
  width: number;
  height: number;
  theme: Theme;
  y?: AxisKind;
  margin?: Partial<Margin>;
  tooltip?: Tooltip;
}

export interface EigenLayout {
  y: Axis;
  stems: number;
}

interface Stem {
  label: string;
  name: string;
  value: number;
  residual: number;
  color: string;
}

export function eigenChart(g: SvgG, data: EigenData, opts: EigenOptions): EigenLayout {
  const { theme } = opts;
  const margin: Margin = { top: data.title ? 30 : 10, right: 12, bottom: 40, left: 60, ...opts.margin };
  const iw = Math.max(40, opts.width - margin.left - margin.right);
  const ih = Math.max(40, opts.height - margin.top - margin.bottom);
  const top: Stem[] = data.top.values.map((v, i) => ({ label: String(i + 1), name: `λ${sub(i + 1)}`, value: v, residual: data.top.residuals[i] ?? NaN, color: theme.primary }));
  const b = data.bottom?.values ?? [];
  // The smallest last: λ_d at the right end, reading as one descending sequence.
  const bottom: Stem[] = b
    .map((v, i) => ({ label: i === 0 ? 'd' : `d−${i}`, name: i === 0 ? 'λ_d' : `λ_d−${i}`, value: v, residual: data.bottom?.residuals[i] ?? NaN, color: theme.secondary }))
    .reverse();
  const slots = top.length + (bottom.length ? bottom.length + 1 : 0);
  const slotW = iw / Math.max(1, slots);
  const xOf = (i: number, isBottom: boolean): number => px((isBottom ? top.length + 1 + i : i) * slotW + slotW / 2);

  const vals: number[] = [];
  for (const s of [...top, ...bottom]) {
    vals.push(s.value);
    if (isNum(s.residual)) vals.push(s.value - s.residual, s.value + s.residual);
  }
  // Headroom above the largest stem for its value label.
  const top0 = Math.max(...vals, 0);
  if (top0 > 0 && (opts.y ?? 'linear') === 'linear') vals.push(top0 * 1.08);
  const axis = axisScale(opts.y ?? 'linear', vals, { zero: true, ticks: Math.max(2, Math.round(ih / 40)) });
  const ys = axis.scale.range([ih, 0]);
  const clamp = (v: number): number => Math.max(0, Math.min(ih, axis.kind === 'log' && v <= 0 ? ih : ys(v)));
  const [d0, d1] = ys.domain();
  const base = axis.kind === 'log' ? ih : px(clamp(Math.max(Math.min(d0, d1), Math.min(Math.max(d0, d1), 0))));

  g.selectAll('*').remove();
  g.classed('lc-eigen-chart', true);
  if (data.title) chartTitle(g, data.title, data.subtitle, margin.left, 16);
  const plot = plotArea(g, 'lc-plot', margin.left, margin.top, iw, ih, theme);
  gridLines(plot, axis.ticks, (v) => px(ys(v)), iw, theme);
  if (axis.kind !== 'log') plot.append('line').attr('class', 'lc-zero').attr('x1', 0).attr('x2', iw).attr('y1', base).attr('y2', base).attr('stroke', theme.muted);

  
  const drawStems = (stems: Stem[], isBottom: boolean): void => {
    stems.forEach((s, i) => {
      const x = xOf(i, isBottom);
      const y = px(clamp(s.value));
      const stem = plot.append('g').attr('class', isBottom ? 'lc-stem lc-stem-bottom' : 'lc-stem');
      stem.append('line').attr('x1', x).attr('x2', x).attr('y1', base).attr('y2', y).attr('stroke', s.color).attr('stroke-width', 2);
      if (isNum(s.residual) && s.residual > 0) {
        const e0 = px(clamp(s.value - s.residual));
        const e1 = px(clamp(s.value + s.residual));
        stem
          .append('path')
          .attr('class', 'lc-error-bar')
          .attr('d', `M${x},${e0}V${e1}M${x - 6},${e0}H${x + 6}M${x - 6},${e1}H${x + 6}`)
          .attr('stroke', theme.foreground)
          .attr('stroke-width', 1.25)
          .attr('fill', 'none');
      }
      stem.append('circle').attr('class', 'lc-stem-dot').attr('cx', x).attr('cy', y).attr('r', 4.5).attr('fill', s.color).attr('stroke', theme.background).attr('stroke-width', 1.5);
      const text = formatValue(s.value, 3);
      // Written only where it fits its slot (the table under the figure has every value).
      if (measureText(plot, text, 'lc-stem-value', 10.5) <= slotW - 4) {
        const above = s.value >= 0 || axis.kind === 'log';
        stem
          .append('text')
          .attr('class', 'lc-stem-value')
          .attr('x', x)
          .attr('y', above ? y - 9 : y + 16)
          .attr('text-anchor', 'middle')
          .attr('fill', theme.foreground)
          .attr('stroke', theme.background)
          .attr('stroke-width', 3)
          .attr('paint-order', 'stroke')
          .text(text);
      }
      plot
        .append('text')
        .attr('class', 'lc-tick-label')
        .attr('x', x)
        .attr('y', ih + 15)
        .attr('text-anchor', 'middle')
        .text(s.label);
      if (opts.tooltip) {
        const tip = opts.tooltip;
        const rows: TooltipRow[] = [
          ['', s.name],
          ['eigenvalue', formatValue(s.value, 6)],
          ['residual ‖Av − λv‖', formatValue(s.residual, 3)],
          ['relative', isNum(s.residual) && s.value !== 0 ? formatValue(s.residual / Math.abs(s.value), 2) : '—'],
        ];
        stem
          .append('rect')
          .attr('class', 'lc-hover-target')
          .attr('x', px(x - slotW / 2))
          .attr('width', px(slotW))
          .attr('height', ih)
          .attr('fill', 'transparent')
          .on('mousemove', (event: MouseEvent) => tip.show(event, rows))
          .on('mouseleave', () => tip.hide());
      }
    });
  };
  drawStems(top, false);
  drawStems(bottom, true);
  if (bottom.length) {
    const gx = px((top.length + 0.5) * slotW);
    plot.append('text').attr('class', 'lc-tick-label').attr('x', gx).attr('y', ih / 2).attr('text-anchor', 'middle').text('⋯');
  }

  g.append('g')
    .attr('class', 'lc-axis lc-axis-y')
    .attr('transform', `translate(${margin.left},${margin.top})`)
    .call(axisLeft(ys).tickValues(axis.ticks).tickFormat((v) => axis.format(+v)).tickSizeOuter(0));
  g.append('text')
    .attr('class', 'lc-axis-label')
    .attr('x', margin.left + iw / 2)
    .attr('y', margin.top + ih + 34)
    .attr('text-anchor', 'middle')
    .text(bottom.length ? 'index i of λᵢ (largest first; d = dimension)' : 'index i of λᵢ (largest first)');
  g.append('text')
    .attr('class', 'lc-axis-label')
    .attr('transform', `translate(${margin.left - 46},${margin.top + ih / 2}) rotate(-90)`)
    .attr('text-anchor', 'middle')
    .text('eigenvalue');
  return { y: axis, stems: top.length + bottom.length };
}

const SUB = '₀₁₂₃₄₅₆₇₈₉';
function sub(n: number): string {
  return String(n)
    .split('')
    .map((c) => SUB[Number(c)] ?? c)
    .join('');
}
