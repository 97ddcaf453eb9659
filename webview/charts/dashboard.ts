/**
 * Small charts stacked vertically on one shared x axis (training step, ρ, α): each panel has
 * its own y axis (linear or log), series with gaps where values are null, horizontal reference
 * lines (2/η), and every panel carries the same vertical event rules and shaded bands, so a
 * change in one curve can be read against all the others at the same step.
 *
 *   dashboard(g, { panels, events, bands }, { width, panelHeight: 96, theme, x: 'log' })
 *
 * One panel is a plain xy chart. Hovering anywhere shows a rule through every panel and the
 * values of every series at the nearest x.
 */
import { axisBottom, axisLeft, line, area, pointer } from 'd3';
import type { ScaleContinuousNumeric } from 'd3';
import { legend, legendRows, legendWidths, type LegendItem } from './legend';
import { measureText } from './text';
import { axisScale, formatValue, isNum, px, type Axis, type AxisKind } from './scales';
import type { Theme } from './theme';
import type { Tooltip, TooltipRow } from './tooltip';
import type { Margin, SvgG } from './types';

export interface Series {
  label: string;
  x: ReadonlyArray<number>;
  y: ReadonlyArray<number | null>;
  color: string;
  dash?: string | null;
  width?: number;
  /** A dot at every point (sparse data: sweeps, ρ lists). Isolated points always get one. */
  points?: boolean;
  /** Symmetric error bars, ± this at each point. */
  error?: ReadonlyArray<number | null>;
  /** A shaded band lo…hi under the line (e.g. ± one standard error). */
  band?: { lo: ReadonlyArray<number | null>; hi: ReadonlyArray<number | null> };
  /** False: no legend entry and no read-out row (many thin per-layer lines). */
  legend?: boolean;
}

export interface ReferenceLine {
  value: number;
  label: string;
  color?: string;
}

export interface ChartPanel {
  id: string;
  title: string;
  /** Muted text after the title: units, a formula. */
  subtitle?: string;
  /** A group heading drawn above this panel. */
  section?: string;
  y?: AxisKind;
  yDomain?: readonly [number, number];
  /** Include 0 in a linear y domain. */
  zero?: boolean;
  /** Format of values in the read-out (ticks use the axis format). */
  format?: (v: number) => string;
  series: ReadonlyArray<Series>;
  hlines?: ReadonlyArray<ReferenceLine>;
  /** Extra legend entries (e.g. one for a group of unlabelled lines). */
  legendExtra?: ReadonlyArray<LegendItem>;
}

export interface XEvent {
  x: number;
  label: string;
}

export interface XBand {
  x0: number;
  x1: number;
  label: string;
}

export interface DashboardData {
  panels: ReadonlyArray<ChartPanel>;
  events?: ReadonlyArray<XEvent>;
  bands?: ReadonlyArray<XBand>;
}

export interface DashboardOptions {
  width: number;
  /** Height of each plot area. */
  panelHeight?: number;
  theme: Theme;
  x?: AxisKind;
  xLabel?: string;
  /** Tick values for x (e.g. the swept values), instead of automatic ones. */
  xTicks?: ReadonlyArray<number>;
  /** Formats x in the read-out. */
  xFormat?: (v: number) => string;
  margin?: Partial<Margin>;
  tooltip?: Tooltip;
}

export interface PanelLayout {
  id: string;
  top: number;
  height: number;
  y: Axis;
}

export interface DashboardLayout {
  x: ScaleContinuousNumeric<number, number>;
  xAxis: Axis;
  /** Total height drawn. */
  height: number;
  panels: PanelLayout[];
}

const TITLE_H = 20;
const SECTION_H = 30;
const GAP = 12;
const EVENT_ROW = 14;

interface Pt {
  x: number;
  y: number | null;
}

export function dashboard(g: SvgG, data: DashboardData, opts: DashboardOptions): DashboardLayout {
  const { theme } = opts;
  const margin: Margin = { top: 4, right: 18, bottom: 40, left: 64, ...opts.margin };
  const iw = Math.max(40, opts.width - margin.left - margin.right);
  const ph = opts.panelHeight ?? 96;
  g.selectAll('*').remove();
  g.classed('lc-dashboard', true);

  const allX = data.panels.flatMap((p) => p.series.flatMap((s) => [...s.x]));
  const xAxis = axisScale(opts.x ?? 'linear', allX, { ticks: Math.max(2, Math.round(iw / 90)), nice: false });
  const xs = xAxis.scale.range([0, iw]);
  const inX = (v: number): boolean => {
    const [a, b] = xs.domain();
    return v >= Math.min(a, b) && v <= Math.max(a, b);
  };
  const events = (data.events ?? []).filter((e) => inX(e.x));
  const bands = (data.bands ?? []).filter((b) => inX(b.x0) && inX(b.x1));

  // Event labels sit in rows above the first panel, each on the first row where it fits.
  const labelRows = placeLabels(
    [
      ...bands.map((b) => ({ x: (xs(b.x0) + xs(b.x1)) / 2, label: b.label, centre: true, width: measureText(g, b.label, 'lc-band-label', 11) })),
      ...events.map((e) => ({ x: xs(e.x), label: e.label, centre: false, width: measureText(g, e.label, 'lc-event-label', 11) })),
    ],
    iw,
  );
  const eventsH = labelRows.count * EVENT_ROW + (labelRows.count ? 4 : 0);
  let y = margin.top + eventsH;

  const panels: PanelLayout[] = [];
  const stack = g.append('g').attr('transform', `translate(${margin.left},0)`);
  for (const p of data.panels) {
    if (p.section) {
      stack
        .append('text')
        .attr('class', 'lc-section-title')
        .attr('x', -margin.left + 8)
        .attr('y', y + 18)
        .text(p.section);
      y += SECTION_H;
    }
    const head = stack.append('g').attr('class', 'lc-panel-head');
    const titleW = measureText(head, p.title, 'lc-panel-title', 12.5);
    head.append('text').attr('class', 'lc-panel-title').attr('x', 0).attr('y', y + 13).text(p.title);
    const subW = p.subtitle ? measureText(head, p.subtitle, 'lc-panel-subtitle', 11) + 8 : 0;
    if (p.subtitle) head.append('text').attr('class', 'lc-panel-subtitle').attr('x', titleW + 8).attr('y', y + 13).text(p.subtitle);
    const items: LegendItem[] = [
      ...p.series.filter((s) => s.legend !== false).map((s) => ({ label: s.label, color: s.color, dash: s.dash === 'none' ? null : s.dash, swatch: s.dash === 'none' ? ('dot' as const) : ('line' as const) })),
      ...(p.legendExtra ?? []),
    ];
    // The legend goes on the title's line when it fits there in one row, else in rows under it.
    const widths = legendWidths(head, items);
    const besideW = iw - titleW - subW - 16;
    const beside = widths.reduce((a, b) => a + b, 0) <= besideW;
    const under = beside ? 0 : legendRows(widths, iw).length;
    legend(head, items, { right: iw, y: beside ? y + 9 : y + TITLE_H + 6, maxWidth: beside ? besideW : iw });
    const headH = beside ? TITLE_H : TITLE_H + under * 15 + 2;
    y += headH;
    panels.push(drawPanel(stack, p, xs, iw, y, ph, theme, events, bands));
    y += ph + GAP;
  }
  const bottom = y - GAP;

  // Event labels above the stack, each tied to its rules by a dotted line.
  const top0 = margin.top + eventsH;
  const labels = stack.append('g').attr('class', 'lc-event-labels');
  for (const l of labelRows.placed) {
    const ly = margin.top + l.row * EVENT_ROW + 10;
    labels
      .append('text')
      .attr('class', l.centre ? 'lc-band-label' : 'lc-event-label')
      .attr('x', px(l.tx))
      .attr('y', ly)
      .attr('text-anchor', l.anchor)
      .attr('fill', theme.foreground)
      .text(l.label);
    if (!l.centre) labels.append('line').attr('x1', px(l.x)).attr('x2', px(l.x)).attr('y1', ly + 3).attr('y2', top0).attr('stroke', theme.muted).attr('stroke-dasharray', '2 3');
  }

  if (opts.xTicks) xAxis.ticks = opts.xTicks.filter(inX);
  stack.append('g').attr('class', 'lc-axis lc-axis-x').attr('transform', `translate(0,${bottom})`).call(axisBottom(xs).tickValues(xAxis.ticks).tickFormat((v) => xAxis.format(+v)).tickSizeOuter(0));
  stack
    .append('text')
    .attr('class', 'lc-axis-label')
    .attr('x', iw / 2)
    .attr('y', bottom + 34)
    .attr('text-anchor', 'middle')
    .text(opts.xLabel ?? 'step');

  if (opts.tooltip && panels.length) attachHover(stack, data, xs, panels, iw, opts, opts.tooltip);
  return { x: xs, xAxis, height: bottom + margin.bottom, panels };
}

function drawPanel(
  stack: SvgG,
  p: ChartPanel,
  xs: ScaleContinuousNumeric<number, number>,
  iw: number,
  top: number,
  ph: number,
  theme: Theme,
  events: ReadonlyArray<XEvent>,
  bands: ReadonlyArray<XBand>,
): PanelLayout {
  const values: (number | null)[] = [];
  for (const s of p.series) {
    values.push(...s.y);
    if (s.band) values.push(...s.band.lo, ...s.band.hi);
    if (s.error) s.y.forEach((v, i) => isNum(v) && isNum(s.error?.[i]) && values.push(v - (s.error?.[i] ?? 0), v + (s.error?.[i] ?? 0)));
  }
  for (const h of p.hlines ?? []) values.push(h.value);
  const kind = p.y ?? 'linear';
  const yAxis = axisScale(kind, values, { domain: p.yDomain, zero: p.zero, ticks: Math.max(2, Math.round(ph / 32)) });
  const ys = yAxis.scale.range([ph, 0]);
  const logOnly = yAxis.kind === 'log';
  const ok = (v: number | null | undefined): v is number => isNum(v) && (!logOnly || v > 0);

  const panel = stack.append('g').attr('class', 'lc-dash-panel').attr('data-panel', p.id).attr('data-y', yAxis.kind).attr('transform', `translate(0,${top})`);
  panel.append('rect').attr('class', 'lc-plot-bg').attr('width', iw).attr('height', ph).attr('fill', 'none').attr('stroke', theme.muted).attr('stroke-opacity', 0.35);
  const grid = panel.append('g').attr('class', 'lc-grid');
  grid
    .selectAll('line.lc-grid-y')
    .data(yAxis.ticks)
    .join('line')
    .attr('class', 'lc-grid-y')
    .attr('x1', 0)
    .attr('x2', iw)
    .attr('y1', (v) => px(ys(v)))
    .attr('y2', (v) => px(ys(v)))
    .attr('stroke', theme.muted)
    .attr('stroke-opacity', 0.18);
  for (const b of bands) {
    panel
      .append('rect')
      .attr('class', 'lc-band')
      .attr('x', px(Math.min(xs(b.x0), xs(b.x1))))
      .attr('width', px(Math.abs(xs(b.x1) - xs(b.x0))))
      .attr('height', ph)
      .attr('fill', theme.foreground)
      .attr('fill-opacity', 0.06);
  }
  for (const e of events) panel.append('line').attr('class', 'lc-event').attr('x1', px(xs(e.x))).attr('x2', px(xs(e.x))).attr('y1', 0).attr('y2', ph).attr('stroke', theme.muted).attr('stroke-width', 1).attr('stroke-dasharray', '4 3');
  const clipped = (v: number): number => Math.max(0, Math.min(ph, ys(v)));
  for (const h of p.hlines ?? []) {
    const hy = px(clipped(h.value));
    const c = h.color ?? theme.foreground;
    const r = panel.append('g').attr('class', 'lc-hline');
    r.append('line').attr('x1', 0).attr('x2', iw).attr('y1', hy).attr('y2', hy).attr('stroke', c).attr('stroke-width', 1.25).attr('stroke-dasharray', '6 3');
    if (!h.label) continue;
    // The label goes where it covers the least data: above or below the line, at its right or left end.
    const w = measureText(panel, h.label, 'lc-mark-label', 11);
    const spot = labelSpot(p.series, xs, (v) => clipped(v), ok, iw, hy, w, ph);
    r.append('text')
      .attr('class', 'lc-mark-label')
      .attr('x', spot.x)
      .attr('y', spot.y)
      .attr('text-anchor', spot.anchor)
      .attr('fill', c)
      .attr('stroke', theme.background)
      .attr('stroke-width', 3)
      .attr('paint-order', 'stroke')
      .text(h.label);
  }

  const body = panel.append('g').attr('class', 'lc-series-layer');
  p.series.forEach((s, si) => {
    const pts: Pt[] = s.x.map((x, i) => ({ x, y: s.y[i] ?? null }));
    const defined = (q: Pt): boolean => ok(q.y) && Number.isFinite(xs(q.x));
    if (s.band) {
      const lo = s.band.lo;
      const hi = s.band.hi;
      const bandArea = area<number>()
        .defined((i) => ok(lo[i]) && ok(hi[i]) && Number.isFinite(xs(s.x[i])))
        .x((i) => px(xs(s.x[i])))
        .y0((i) => px(clipped(lo[i] ?? 0)))
        .y1((i) => px(clipped(hi[i] ?? 0)));
      body.append('path').attr('class', 'lc-series-band').attr('d', bandArea(s.x.map((_, i) => i)) ?? '').attr('fill', s.color).attr('fill-opacity', 0.16);
    }
    const d =
      line<Pt>()
        .defined(defined)
        .x((q) => px(xs(q.x)))
        .y((q) => px(clipped(q.y ?? 0)))(pts) ?? '';
    body
      .append('path')
      .attr('class', 'lc-series')
      .attr('data-series', `${p.id}:${si}`)
      .attr('d', s.dash === 'none' ? '' : d)
      .attr('fill', 'none')
      .attr('stroke', s.color)
      .attr('stroke-width', s.width ?? 1.75)
      .attr('stroke-dasharray', s.dash && s.dash !== 'none' ? s.dash : null)
      .attr('stroke-linejoin', 'round')
      .attr('stroke-linecap', 'round');
    const dots = pts.filter((q, i) => defined(q) && (s.points || s.dash === 'none' || (!defined(pts[i - 1] ?? { x: 0, y: null }) && !defined(pts[i + 1] ?? { x: 0, y: null }))));
    if (s.error) {
      const errs = pts
        .map((q, i) => ({ q, e: s.error?.[i] ?? null }))
        .filter((r): r is { q: Pt; e: number } => defined(r.q) && isNum(r.e) && r.e > 0);
      const eg = body.append('g').attr('class', 'lc-error-bars').attr('stroke', s.color).attr('stroke-width', 1.25);
      for (const { q, e } of errs) {
        const x = px(xs(q.x));
        const y0 = px(clipped((q.y ?? 0) - e));
        const y1 = px(clipped((q.y ?? 0) + e));
        eg.append('path').attr('class', 'lc-error-bar').attr('d', `M${x},${y0}V${y1}M${x - 4},${y0}H${x + 4}M${x - 4},${y1}H${x + 4}`);
      }
    }
    body
      .append('g')
      .attr('class', 'lc-series-points')
      .selectAll('circle')
      .data(dots)
      .join('circle')
      .attr('cx', (q) => px(xs(q.x)))
      .attr('cy', (q) => px(clipped(q.y ?? 0)))
      .attr('r', s.points || s.dash === 'none' ? 3.2 : 2.2)
      .attr('fill', s.color)
      .attr('stroke', theme.background)
      .attr('stroke-width', 1);
  });

  panel.append('g').attr('class', 'lc-axis lc-axis-y').call(axisLeft(ys).tickValues(yAxis.ticks).tickFormat((v) => yAxis.format(+v)).tickSizeOuter(0));
  return { id: p.id, top, height: ph, y: yAxis };
}

/**
 * A place for the label of a horizontal line at `hy`: the first of above-right, above-left,
 * below-right, below-left whose box no series crosses, else the one crossed least.
 */
function labelSpot(
  series: ReadonlyArray<Series>,
  xs: ScaleContinuousNumeric<number, number>,
  ys: (v: number) => number,
  ok: (v: number | null | undefined) => v is number,
  iw: number,
  hy: number,
  w: number,
  ph: number,
): { x: number; y: number; anchor: 'start' | 'end' } {
  const pts: [number, number][][] = series.map((s) => s.x.map((x, i): [number, number] | null => (ok(s.y[i]) ? [xs(x), ys(s.y[i] ?? 0)] : null)).filter((q): q is [number, number] => q !== null));
  const above = hy - 4 >= 10 ? hy - 4 : hy + 12;
  const below = hy + 12 <= ph ? hy + 12 : hy - 4;
  const spots = [
    { x: iw - 4, y: above, anchor: 'end' as const },
    { x: 4, y: above, anchor: 'start' as const },
    { x: iw - 4, y: below, anchor: 'end' as const },
    { x: 4, y: below, anchor: 'start' as const },
  ];
  let best = spots[0];
  let bestHits = Infinity;
  for (const sp of spots) {
    const x0 = sp.anchor === 'end' ? sp.x - w - 2 : sp.x - 2;
    const x1 = x0 + w + 4;
    const [y0, y1] = [sp.y - 11, sp.y + 3];
    let hits = 0;
    for (const line of pts)
      for (let i = 0; i < line.length; i++) {
        const [a, b] = [line[i], line[i + 1] ?? line[i]];
        // Samples along the segment: enough at the label's scale.
        for (let k = 0; k <= 8; k++) {
          const x = a[0] + ((b[0] - a[0]) * k) / 8;
          const y = a[1] + ((b[1] - a[1]) * k) / 8;
          if (x >= x0 && x <= x1 && y >= y0 && y <= y1) hits++;
        }
      }
    if (hits < bestHits) {
      best = sp;
      bestHits = hits;
    }
    if (hits === 0) break;
  }
  return best;
}

interface Placed {
  x: number;
  tx: number;
  label: string;
  row: number;
  anchor: 'start' | 'middle' | 'end';
  centre: boolean;
}

/** Greedy rows for labels at x positions: each goes on the first row where it does not overlap. */
function placeLabels(items: ReadonlyArray<{ x: number; label: string; centre: boolean; width: number }>, iw: number): { placed: Placed[]; count: number } {
  const rows: [number, number][][] = [];
  const placed: Placed[] = [];
  for (const it of items) {
    const w = it.width + 6;
    let anchor: Placed['anchor'] = it.centre ? 'middle' : 'start';
    let tx = it.centre ? it.x : it.x + 3;
    let a = it.centre ? it.x - w / 2 : it.x + 3;
    if (a + w > iw) {
      anchor = 'end';
      tx = it.centre ? iw : it.x - 3;
      a = tx - w;
    }
    if (a < 0 && anchor !== 'start') {
      anchor = 'start';
      tx = 0;
      a = 0;
    }
    let row = rows.findIndex((r) => r.every(([s, e]) => a + w <= s || a >= e));
    if (row < 0) {
      rows.push([]);
      row = rows.length - 1;
    }
    rows[row].push([a, a + w]);
    placed.push({ x: it.x, tx, label: it.label, row, anchor, centre: it.centre });
  }
  return { placed, count: rows.length };
}

function attachHover(
  stack: SvgG,
  data: DashboardData,
  xs: ScaleContinuousNumeric<number, number>,
  panels: ReadonlyArray<PanelLayout>,
  iw: number,
  opts: DashboardOptions,
  tooltip: Tooltip,
): void {
  const xsAll = Array.from(new Set(data.panels.flatMap((p) => p.series.flatMap((s) => [...s.x])))).filter((v) => Number.isFinite(xs(v)));
  xsAll.sort((a, b) => a - b);
  if (xsAll.length === 0) return;
  const top = panels[0].top;
  const last = panels[panels.length - 1];
  const height = last.top + last.height - top;
  const rules = panels.map((p) => stack.append('line').attr('class', 'lc-hover-rule').attr('y1', p.top).attr('y2', p.top + p.height).attr('stroke', opts.theme.foreground).attr('stroke-opacity', 0.5).attr('display', 'none'));
  const dots = stack.append('g').attr('class', 'lc-hover-dot').attr('display', 'none');
  const fx = opts.xFormat ?? ((v: number) => formatValue(v));
  stack
    .append('rect')
    .attr('class', 'lc-hover-target')
    .attr('y', top)
    .attr('width', iw)
    .attr('height', height)
    .attr('fill', 'transparent')
    .on('mousemove', (event: MouseEvent) => {
      const mx = pointer(event)[0];
      let best = xsAll[0];
      for (const v of xsAll) if (Math.abs(xs(v) - mx) < Math.abs(xs(best) - mx)) best = v;
      const x = px(xs(best));
      for (const r of rules) r.attr('display', null).attr('x1', x).attr('x2', x);
      dots.selectAll('*').remove();
      dots.attr('display', null);
      const rows: TooltipRow[] = [[opts.xLabel ?? 'step', fx(best)]];
      data.panels.forEach((p, pi) => {
        const lay = panels[pi];
        const ys = lay.y.scale;
        for (const s of p.series) {
          const i = s.x.indexOf(best);
          const v = i >= 0 ? s.y[i] : null;
          if (isNum(v) && (lay.y.kind !== 'log' || v > 0)) {
            const cy = Math.max(0, Math.min(lay.height, ys(v)));
            dots.append('circle').attr('cx', x).attr('cy', px(lay.top + cy)).attr('r', 3).attr('fill', s.color).attr('stroke', opts.theme.background).attr('stroke-width', 1.5);
          }
          if (s.legend === false || i < 0) continue;
          if (rows.length < 18) rows.push([s.label, isNum(v) ? (p.format ?? formatValue)(v) : '—']);
        }
      });
      tooltip.show(event, rows);
    })
    .on('mouseleave', () => {
      for (const r of rules) r.attr('display', 'none');
      dots.attr('display', 'none');
      tooltip.hide();
    });
}
