/**
 * The landscape panel: 2D → filled contours with a colour bar (or a pseudo-3D surface),
 * a linear/log colour toggle; 1D → a line chart with loss and accuracy. Exports SVG, PNG, CSV.
 */
import type { ResultOf } from '../../src/shared/result';
import type { Landscape1D, Landscape2D } from '../../src/shared/results/landscape';
import { colorbar } from '../charts/colorbar';
import { contourChart } from '../charts/contour';
import { finiteExtent } from '../charts/grid';
import { DEFAULT_LEVELS, makeLevels, type ColorMode } from '../charts/levels';
import { lineChart } from '../charts/line';
import { surfaceChart } from '../charts/surface';
import type { Theme } from '../charts/theme';
import type { SvgG } from '../charts/types';
import { exportFigure, safeFileName, toCsv } from '../export';
import { button, segmented, slider, toolGroup } from './controls';
import { basename, createFrame, renderDefinitions, renderHeader, type Frame, type MetaItem } from './frame';
import type { Panel, PanelContext, PanelFactory } from './panel';

type LandscapeResult = ResultOf<'landscape'>;
type View = 'contour' | 'surface';

interface ViewState {
  view: View;
  scale: ColorMode;
  azimuth: number;
}

const CAPTION_H = 44;
const COLORBAR_W = 92;

export const createLandscapePanel: PanelFactory<'landscape'> = (root: HTMLElement, ctx: PanelContext): Panel<LandscapeResult> => {
  const frame = createFrame(root, 'Loss landscape');
  const state: ViewState = { view: 'contour', scale: 'linear', azimuth: 35 };
  let current: { result: LandscapeResult; title: string } | null = null;
  let toolbarDims: 1 | 2 | null = null;
  let scaleChosen = false;

  const draw = (): void => {
    if (!current) return;
    const { result, title } = current;
    const theme = ctx.theme();
    const width = Math.max(360, Math.min(960, frame.figure.clientWidth || 760));
    const payload = result.result;
    if (payload.dims === 2) draw2D(frame, payload, title, subtitle2D(result, payload, state), state, theme, width);
    else draw1D(frame, payload, title, subtitle1D(result, payload, state), state, theme, width);
  };

  const buildToolbar = (dims: 1 | 2): void => {
    toolbarDims = dims;
    const scaleLabel = dims === 2 ? 'Colour' : 'Loss axis';
    const scale = segmented<ColorMode>(
      `${scaleLabel} scale`,
      [
        { value: 'linear', text: 'Linear' },
        { value: 'log', text: 'Log', title: dims === 2 ? 'log10(loss − min + ε): resolves the basin floor' : 'logarithmic loss axis' },
      ],
      state.scale,
      (v) => {
        state.scale = v;
        draw();
      },
    );
    const groups: HTMLElement[] = [];
    if (dims === 2) {
      const rotate = slider('Rotate', -180, 180, state.azimuth, (v) => {
        state.azimuth = v;
        draw();
      });
      rotate.hidden = state.view !== 'surface';
      const view = segmented<View>(
        'View',
        [
          { value: 'contour', text: 'Contour' },
          { value: 'surface', text: 'Surface' },
        ],
        state.view,
        (v) => {
          state.view = v;
          rotate.hidden = v !== 'surface';
          draw();
        },
      );
      groups.push(toolGroup('View', view.el), toolGroup(scaleLabel, scale.el), rotate);
    } else {
      groups.push(toolGroup(scaleLabel, scale.el));
    }
    const spacer = document.createElement('div');
    spacer.className = 'lc-spacer';
    const name = (): string => `${current?.title ?? 'landscape'} ${dims}D`;
    const fig = (format: 'svg' | 'png') => (): void =>
      exportFigure(frame.svgNode, format, name(), ctx.theme().background, ctx.exportSink, (e) =>
        ctx.report('error', `Export failed: ${e.message}`),
      );
    const csv = (): void => {
      if (!current) return;
      ctx.exportSink({ format: 'csv', suggestedName: safeFileName(name(), 'csv'), data: landscapeCsv(current.result.result) });
    };
    const exports = toolGroup(
      'Export',
      button('SVG', 'Save the figure as SVG', fig('svg')),
      button('PNG', 'Save the figure as PNG (2×)', fig('png')),
      button('CSV', 'Save the grid values as CSV', csv),
    );
    frame.toolbar.replaceChildren(...groups, spacer, exports);
  };

  return {
    update(result, title) {
      current = { result, title };
      const p = result.result;
      if (!scaleChosen && (p.dims === 2 ? p.rowsDone : p.pointsDone) > 0) {
        // Start on a log scale when the loss spans decades (typical far from a trained minimum);
        // afterwards the user's choice stands, through every partial update.
        state.scale = suggestedScale(p);
        scaleChosen = true;
      }
      if (toolbarDims !== p.dims) buildToolbar(p.dims);
      renderHeader(frame.header, result, title, progressText(p), metaItems(p));
      renderDefinitions(frame.notes, result.definitions, p.directions.note ? [p.directions.note] : []);
      draw();
    },
    redraw: draw,
    destroy() {
      frame.tooltip.remove();
      frame.remove();
    },
  };
};

function suggestedScale(p: Landscape1D | Landscape2D): ColorMode {
  const ext = p.dims === 2 ? finiteExtent(p.loss) : finiteExtent([p.loss]);
  return ext && ext[0] > 0 && ext[1] / ext[0] >= 100 ? 'log' : 'linear';
}

function progressText(p: Landscape1D | Landscape2D): string {
  return p.dims === 2 ? `${p.rowsDone} of ${p.y.length} rows` : `${p.pointsDone} of ${p.t.length} points`;
}

function directionText(p: Landscape1D | Landscape2D): string {
  const d = p.directions;
  const norm = d.norm === 'none' ? 'unnormalised' : `${d.norm}-normalised`;
  const kind = d.kind === 'interpolation' ? 'interpolation' : `${d.kind} direction${p.dims === 2 ? 's' : ''}`;
  return `${norm} ${kind}`;
}

function metaItems(p: Landscape1D | Landscape2D): MetaItem[] {
  const d = p.directions;
  const dirs = [directionText(p), `bias ${d.bias}`, `seed ${d.seed}`];
  if (d.cosine !== null) dirs.push(`cos(δ, η) = ${d.cosine.toFixed(3)}`);
  const grid = p.dims === 2 ? `${p.x.length} × ${p.y.length}` : `${p.t.length} points`;
  const center = `loss ${p.centerLoss.toPrecision(4)}${p.centerAccuracy !== null ? ` · accuracy ${(p.centerAccuracy * 100).toFixed(1)} %` : ''}`;
  return [
    ['Directions', dirs.join(' · ')],
    ['Grid', grid],
    ['At θ', center],
  ];
}

function subtitle2D(r: LandscapeResult, p: Landscape2D, s: ViewState): string {
  return [`${p.x.length} × ${p.y.length} grid`, directionText(p), r.provenance.loss.name, `${s.scale} colour scale`].join(' · ');
}

function subtitle1D(r: LandscapeResult, p: Landscape1D, s: ViewState): string {
  return [`${p.t.length} points`, directionText(p), r.provenance.loss.name, `${s.scale} loss axis`].join(' · ');
}

/** Title and subtitle drawn inside the SVG, so an exported figure says what it shows. */
function caption(svg: Frame['svg'], title: string, subtitle: string): void {
  svg.attr('aria-label', `${title}: ${subtitle}`);
  svg.append('text').attr('class', 'lc-figure-title').attr('x', 8).attr('y', 18).text(title);
  svg.append('text').attr('class', 'lc-figure-subtitle').attr('x', 8).attr('y', 35).text(subtitle);
}

function draw2D(frame: Frame, p: Landscape2D, title: string, subtitle: string, s: ViewState, theme: Theme, width: number): void {
  // A square plot: α and β are in the same units (filter-normalised steps), so circles stay circles.
  const inner = Math.max(200, Math.min(560, width - 68 - COLORBAR_W));
  const cw = inner + 68;
  const ch = inner + 52;
  const svg = frame.svg;
  svg.selectAll('*').remove();
  svg.attr('width', cw + COLORBAR_W).attr('height', CAPTION_H + ch).attr('viewBox', `0 0 ${cw + COLORBAR_W} ${CAPTION_H + ch}`);
  caption(svg, title, subtitle);
  const ext = finiteExtent(p.loss);
  const [lo, hi] = ext ?? [p.centerLoss, p.centerLoss];
  const levels = makeLevels(lo, hi, DEFAULT_LEVELS, s.scale);
  const chart: SvgG = svg.append('g').attr('transform', `translate(0,${CAPTION_H})`);
  frame.tooltip.hide();
  if (s.view === 'contour') {
    contourChart(
      chart,
      { x: p.x, y: p.y, loss: p.loss, accuracy: p.accuracy, path: p.path, center: { x: 0, y: 0, label: 'θ' } },
      { width: cw, height: ch, levels, theme, tooltip: frame.tooltip },
    );
  } else {
    surfaceChart(
      chart,
      { x: p.x, y: p.y, loss: p.loss, center: { x: 0, y: 0, loss: p.centerLoss } },
      { width: cw, height: ch, levels, theme, azimuth: s.azimuth },
    );
  }
  if (ext) {
    const bar: SvgG = svg.append('g').attr('transform', `translate(${cw + 8},${CAPTION_H + 8 + 14})`);
    colorbar(bar, { height: inner - 14, levels, theme, label: 'loss' });
  }
}

function draw1D(frame: Frame, p: Landscape1D, title: string, subtitle: string, s: ViewState, theme: Theme, width: number): void {
  const height = Math.round(Math.max(260, Math.min(440, width * 0.5)));
  const svg = frame.svg;
  svg.selectAll('*').remove();
  svg.attr('width', width).attr('height', CAPTION_H + height).attr('viewBox', `0 0 ${width} ${CAPTION_H + height}`);
  caption(svg, title, subtitle);
  const chart: SvgG = svg.append('g').attr('transform', `translate(0,${CAPTION_H})`);
  const markers = p.endpoints
    ? [
        { t: 0, label: basename(p.endpoints.from) },
        { t: 1, label: basename(p.endpoints.to) },
      ]
    : [];
  frame.tooltip.hide();
  lineChart(
    chart,
    { t: p.t, loss: p.loss, accuracy: p.accuracy, markers, center: { t: 0, loss: p.centerLoss, label: p.endpoints ? '' : 'θ' } },
    { width, height, theme, yScale: s.scale, xLabel: p.endpoints ? 't (θ₁ → θ₂)' : 't', tooltip: frame.tooltip },
  );
}

/** One row per grid point (tidy: loads straight into pandas or a spreadsheet); empty = not computed. */
export function landscapeCsv(p: Landscape1D | Landscape2D): string {
  if (p.dims === 1) {
    return toCsv(
      ['t', 'loss', 'accuracy'],
      p.t.map((t, i) => [t, p.loss[i] ?? null, p.accuracy?.[i] ?? null]),
    );
  }
  const rows: (number | null)[][] = [];
  p.y.forEach((b, j) => p.x.forEach((a, i) => rows.push([a, b, p.loss[j]?.[i] ?? null, p.accuracy?.[j]?.[i] ?? null])));
  return toCsv(['alpha', 'beta', 'loss', 'accuracy'], rows);
}
