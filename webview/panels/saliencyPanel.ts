/**
 * The saliency panel (M-FAC / Optimal Brain Surgeon): the saliency per layer on a log axis
 * (mean, with the min–max range), the share of each layer that global pruning at a chosen
 * sparsity would remove, the global threshold against sparsity, and tables of the most and
 * least salient parameters. Exports SVG, PNG, the layers and the top parameters as CSV.
 */
import type { ResultOf } from '../../src/shared/result';
import type { SaliencyPayload } from '../../src/shared/results/saliency';
import { barChart } from '../charts/bars';
import { dashboard } from '../charts/dashboard';
import { formatValue } from '../charts/scales';
import { dataTable } from '../charts/table';
import type { Theme } from '../charts/theme';
import type { Tooltip } from '../charts/tooltip';
import { toCsv } from '../export';
import { segmented, toolGroup } from './controls';
import { createFrame, renderDefinitions, renderHeader, type MetaItem } from './frame';
import { CAPTION_H, caption, cellGrid, clearSvg, exportGroup, figureWidth, sizeSvg, spacer, tableBox, type FigureCell } from './figure';
import type { Panel, PanelContext, PanelFactory } from './panel';

type SaliencyResult = ResultOf<'saliency'>;

const pct = (v: number): string => `${+(v * 100).toFixed(1)}\u00a0%`;

export const createSaliencyPanel: PanelFactory<'saliency'> = (root: HTMLElement, ctx: PanelContext): Panel<SaliencyResult> => {
  const frame = createFrame(root, 'Pruning saliency');
  const tables = tableBox(frame);
  let current: { result: SaliencyResult; title: string } | null = null;
  let sparsity: number | null = null;
  let sparsityKey = '';

  const draw = (): void => {
    if (!current) return;
    const { result, title } = current;
    const p = result.result;
    const theme = ctx.theme();
    const width = figureWidth(frame, 400, 980);
    clearSvg(frame);
    caption(
      frame.svg,
      title,
      [`${p.dim.toLocaleString('en-US')} parameters`, `M-FAC with m = ${p.gradients} gradients of ${p.gradientBatch} sample${p.gradientBatch === 1 ? '' : 's'}`, `λ = ${formatValue(p.lambda, 2)}`, 'OBS saliency θ²/(2[F̂⁻¹]ᵢᵢ)'].join(' · '),
    );
    const body = frame.svg.append('g').attr('class', 'lc-saliency').attr('transform', `translate(0,${CAPTION_H + 6})`);
    const cells = saliencyCells(p, theme, sparsity, frame.tooltip);
    const bottom = cells.length ? cellGrid(body, cells, width, 0) : 0;
    if (!cells.length) body.append('text').attr('class', 'lc-pending-label').attr('x', 8).attr('y', 20).text('No saliencies computed yet.');
    sizeSvg(frame, width, CAPTION_H + 6 + Math.max(bottom, 30) + 8);
  };

  const buildToolbar = (p: SaliencyPayload): void => {
    const levels = p.thresholds.map((t) => t.sparsity);
    sparsityKey = levels.join();
    const groups: HTMLElement[] = [];
    if (levels.length) {
      if (sparsity === null || !levels.includes(sparsity)) sparsity = levels[Math.floor((levels.length - 1) / 2)];
      const choice = segmented<string>(
        'Sparsity',
        levels.map((s) => ({ value: String(s), text: pct(s), title: `global pruning of the ${pct(s)} least salient parameters` })),
        String(sparsity),
        (v) => {
          sparsity = Number(v);
          draw();
        },
      );
      groups.push(toolGroup('Sparsity', choice.el));
    }
    frame.toolbar.replaceChildren(
      ...groups,
      spacer(),
      exportGroup(frame, ctx, () => current?.title ?? 'saliency', [
        { label: 'CSV', title: 'Save the per-layer saliency and pruned shares as CSV', name: 'layers', make: () => (current ? layersCsv(current.result.result) : '') },
        { label: 'Top CSV', title: 'Save the most and least salient parameters as CSV', name: 'parameters', make: () => (current ? parametersCsv(current.result.result) : '') },
      ]),
    );
  };

  return {
    update(result, title) {
      current = { result, title };
      const p = result.result;
      if (p.thresholds.map((t) => t.sparsity).join() !== sparsityKey || !frame.toolbar.childElementCount) buildToolbar(p);
      renderHeader(frame.header, result, title, null, metaItems(p));
      renderTables(tables, p);
      renderDefinitions(frame.notes, result.definitions, []);
      draw();
    },
    redraw: draw,
    destroy() {
      frame.tooltip.remove();
      frame.remove();
    },
  };
};

export function saliencyCells(p: SaliencyPayload, theme: Theme, sparsity: number | null, tooltip: Tooltip): FigureCell[] {
  const cells: FigureCell[] = [];
  if (p.layers.length) {
    cells.push((g, w) =>
      barChart(
        g,
        {
          title: 'Saliency per layer',
          subtitle: 'bar: mean · whisker: min–max',
          bars: p.layers.map((l) => ({
            label: l.layer,
            value: l.mean,
            range: [l.min, l.max] as const,
            details: [
              ['parameters', l.size.toLocaleString('en-US')],
              ['median', formatValue(l.median, 3)],
              ['sum', formatValue(l.sum, 3)],
            ],
          })),
        },
        { width: w, theme, tooltip, x: 'log', color: theme.primary, xLabel: 'OBS saliency (predicted loss increase)', format: (v) => formatValue(v, 3) },
      ).height,
    );
    const s = sparsity;
    if (s !== null) {
      cells.push((g, w) =>
        barChart(
          g,
          {
            title: 'Pruned share per layer',
            subtitle: `global pruning to ${pct(s)} sparsity`,
            bars: p.layers.map((l) => {
              const f = l.pruned.find((q) => q.sparsity === s)?.fraction ?? null;
              return { label: l.layer, value: f, details: [['weights removed', f === null ? '—' : `${Math.round(f * l.size).toLocaleString('en-US')} of ${l.size.toLocaleString('en-US')}`]] };
            }),
          },
          { width: w, theme, tooltip, domain: [0, 1], color: theme.secondary, xLabel: 'share of the layer’s weights', format: pct, reference: { value: s, label: `global ${pct(s)}` } },
        ).height,
      );
    }
  }
  if (p.thresholds.length > 1) {
    cells.push(
      (g, w) =>
        dashboard(
          g,
          {
            panels: [
              {
                id: 'thresholds',
                title: 'Global saliency threshold',
                subtitle: 'prune everything below it',
                y: 'log',
                series: [{ label: 'threshold', x: p.thresholds.map((t) => t.sparsity), y: p.thresholds.map((t) => t.saliency), color: theme.palette[1], width: 2, points: true }],
              },
            ],
            events: sparsity !== null ? [{ x: sparsity, label: `${pct(sparsity)} selected` }] : [],
          },
          { width: w, panelHeight: 170, theme, xLabel: 'sparsity', xFormat: pct, tooltip },
        ).height,
    );
  }
  return cells;
}

function metaItems(p: SaliencyPayload): MetaItem[] {
  return [
    ['Fisher', `F̂ = λI + (1/m)Σ gᵢgᵢᵀ · m = ${p.gradients} · batch ${p.gradientBatch} · λ = ${formatValue(p.lambda, 2)}${p.blockSize === undefined ? '' : p.blocks === 1 ? ' · full' : ` · ${p.blocks} blocks of ${p.blockSize}`}`],
    ...(p.spearmanVsMagnitude == null
      ? []
      : ([['vs magnitude', `Spearman ρ(saliency, |θ|) = ${p.spearmanVsMagnitude.toFixed(3)}${p.thresholds.some((t) => t.magnitudeOverlap !== undefined) ? ` · same pruned set ${p.thresholds.map((t) => `${pct(t.magnitudeOverlap ?? Number.NaN)} at ${pct(t.sparsity)}`).join(', ')}` : ''}`]] as MetaItem[])),
    ['At θ', `loss ${formatValue(p.loss)} · d = ${p.dim.toLocaleString('en-US')}`],
    ['Layers', `${p.layers.length} · sparsities ${p.thresholds.map((t) => pct(t.sparsity)).join(', ') || '—'}`],
  ];
}

function renderTables(box: HTMLElement, p: SaliencyPayload): void {
  box.replaceChildren();
  const columns = [
    { label: '#', numeric: true },
    { label: 'variable' },
    { label: 'position', title: 'index inside the variable’s tensor' },
    { label: 'weight θ', numeric: true },
    { label: 'saliency', numeric: true, title: 'θ²/(2[F̂⁻¹]ᵢᵢ): predicted loss increase of zeroing this weight alone' },
  ];
  const rows = (list: SaliencyPayload['mostSalient']): string[][] =>
    list.map((q, i) => [String(i + 1), q.variable, `[${q.position.join(', ')}]`, formatValue(q.weight), formatValue(q.saliency, 3)]);
  const pair = document.createElement('div');
  pair.className = 'lc-table-pair';
  box.appendChild(pair);
  if (p.mostSalient.length) dataTable(pair, { caption: `Most salient (${p.mostSalient.length})`, columns, rows: rows(p.mostSalient) });
  if (p.leastSalient.length) dataTable(pair, { caption: `Least salient (${p.leastSalient.length})`, columns, rows: rows(p.leastSalient) });
}

export function layersCsv(p: SaliencyPayload): string {
  const levels = p.thresholds.map((t) => t.sparsity);
  return toCsv(
    ['layer', 'size', 'sum', 'mean', 'median', 'min', 'max', ...levels.map((s) => `pruned@${s}`)],
    p.layers.map((l) => [l.layer, l.size, l.sum, l.mean, l.median, l.min, l.max, ...levels.map((s) => l.pruned.find((q) => q.sparsity === s)?.fraction ?? null)]),
  );
}

function parametersCsv(p: SaliencyPayload): string {
  const rows: (string | number)[][] = [];
  p.mostSalient.forEach((q, i) => rows.push(['most', i + 1, q.index, q.variable, q.position.join(' '), q.weight, q.saliency]));
  p.leastSalient.forEach((q, i) => rows.push(['least', i + 1, q.index, q.variable, q.position.join(' '), q.weight, q.saliency]));
  return toCsv(['which', 'rank', 'index', 'variable', 'position', 'weight', 'saliency'], rows);
}
