/**
 * The landscape panel: 2D → filled contours with a colour bar (or a pseudo-3D surface),
 * a linear/log colour toggle; 1D → a line chart with loss and accuracy. Exports SVG, PNG, CSV.
 */
import type { ResultOf } from '../../src/shared/result';
import { finishedRowsFromStart } from '../../src/shared/resume';
import type { Landscape1D, Landscape2D } from '../../src/shared/results/landscape';
import type { TrajectoryInfo } from '../../src/shared/results/trajectory';
import { colorbar } from '../charts/colorbar';
import { contourChart } from '../charts/contour';
import { dashboard } from '../charts/dashboard';
import { finiteExtent } from '../charts/grid';
import { DEFAULT_LEVELS, makeLevels, type ColorMode } from '../charts/levels';
import { lineChart } from '../charts/line';
import { formatValue } from '../charts/scales';
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
  /** Camera height above the plane, degrees (dragging the surface up and down changes it). */
  elevation: number;
}

const CAPTION_H = 44;
const COLORBAR_W = 92;

export const createLandscapePanel: PanelFactory<'landscape'> = (root: HTMLElement, ctx: PanelContext): Panel<LandscapeResult> => {
  const frame = createFrame(root, 'Loss landscape');
  const state: ViewState = { view: 'contour', scale: 'linear', azimuth: 35, elevation: 30 };
  let rotateInput: HTMLInputElement | null = null;
  // Drag the surface to turn it (left/right: azimuth; up/down: elevation), one redraw per frame.
  let drag: { x: number; y: number; azimuth: number; elevation: number; id: number } | null = null;
  let queued = false;
  const queueDraw = (): void => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      draw();
    });
  };
  frame.svgNode.addEventListener('pointerdown', (e) => {
    if (state.view !== 'surface' || e.button !== 0) return;
    drag = { x: e.clientX, y: e.clientY, azimuth: state.azimuth, elevation: state.elevation, id: e.pointerId };
    frame.svgNode.setPointerCapture?.(e.pointerId);
    frame.svgNode.classList.add('lc-dragging');
    frame.tooltip.hide();
  });
  frame.svgNode.addEventListener('pointermove', (e) => {
    if (!drag || e.pointerId !== drag.id) return;
    const az = drag.azimuth + (e.clientX - drag.x) * 0.5;
    state.azimuth = Math.round(((((az + 180) % 360) + 360) % 360) - 180);
    state.elevation = Math.round(Math.max(5, Math.min(85, drag.elevation + (e.clientY - drag.y) * 0.4)));
    if (rotateInput) rotateInput.value = String(state.azimuth);
    queueDraw();
  });
  const endDrag = (e: PointerEvent): void => {
    if (!drag || e.pointerId !== drag.id) return;
    drag = null;
    frame.svgNode.classList.remove('lc-dragging');
  };
  frame.svgNode.addEventListener('pointerup', endDrag);
  frame.svgNode.addEventListener('pointercancel', endDrag);
  let current: { result: LandscapeResult; title: string } | null = null;
  let toolbarKey = '';
  let scaleChosen = false;

  const draw = (): void => {
    if (!current) return;
    const { result, title } = current;
    const theme = ctx.theme();
    const width = Math.max(360, Math.min(960, frame.figure.clientWidth || 760));
    const payload = result.result;
    if (payload.dims === 2) draw2D(frame, payload, title, subtitle2D(result, payload, state), state, theme, width, stoppedReason(result));
    else draw1D(frame, payload, title, subtitle1D(result, payload, state), state, theme, width);
  };

  const buildToolbar = (dims: 1 | 2): void => {
    toolbarKey = `${dims}:${!!current?.result.result.trajectory}`;
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
      rotate.title = 'Or drag the surface: left and right turn it, up and down tilt it';
      rotateInput = rotate.querySelector('input');
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
    // "tiny 2D · loss landscape 2D", not "… 2D 2D": the dims only when the title lacks them.
    const name = (): string => {
      const t = current?.title ?? 'landscape';
      return new RegExp(`\\b${dims}D\\b`, 'i').test(t) ? t : `${t} ${dims}D`;
    };
    const fig = (format: 'svg' | 'png') => (): void =>
      exportFigure(frame.svgNode, format, name(), ctx.theme().background, ctx.exportSink, (e) =>
        ctx.report('error', `Export failed: ${e.message}`),
      );
    const csv = (): void => {
      if (!current) return;
      ctx.exportSink({ format: 'csv', suggestedName: safeFileName(name(), 'csv'), data: landscapeCsv(current.result.result) });
    };
    const trajectoryCsv = (): void => {
      const p = current?.result.result;
      if (p?.trajectory) ctx.exportSink({ format: 'csv', suggestedName: safeFileName(`${name()} checkpoints`, 'csv'), data: checkpointsCsv(p) });
    };
    const exports = toolGroup(
      'Export',
      button('SVG', 'Save the figure as SVG', fig('svg')),
      button('PNG', 'Save the figure as PNG (2×)', fig('png')),
      button('CSV', 'Save the grid values as CSV', csv),
      ...(current?.result.result.trajectory ? [button('Checkpoints CSV', 'Save each checkpoint’s position, distance and off-plane residual as CSV', trajectoryCsv)] : []),
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
      if (toolbarKey !== `${p.dims}:${!!p.trajectory}`) buildToolbar(p.dims);
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
  const items: MetaItem[] = [
    ['Directions', dirs.join(' · ')],
    ['Grid', grid],
    ['At θ', center],
  ];
  if (p.trajectory) items.push(trajectoryMeta(p.trajectory));
  return items;
}

const pct = (v: number): string => `${(v * 100).toFixed(1)}\u00a0%`;
const fmtStep = (v: number): string => Math.round(v).toLocaleString('en-US');

function trajectoryMeta(t: TrajectoryInfo): MetaItem {
  const n = t.steps.length;
  const anchors = t.anchors.map(fmtStep).join(', ');
  const tip = t.steps.map((s, i) => `${s}\t${t.checkpoints[i] ?? ''}`).join('\n');
  if (t.mode === 'pca' && t.explainedVariance) {
    const [a, b] = t.explainedVariance;
    return ['Trajectory', `PCA of ${n} checkpoints · explained variance ${pct(a)} + ${pct(b)} = ${pct(a + b)}`, tip];
  }
  return ['Trajectory', `${t.mode === 'line' ? 'line through' : 'plane through'} steps ${anchors} · ${n} checkpoints`, tip];
}

/** Axis labels of a PCA plane: the component and its share of the variance. */
function pcaLabels(t: TrajectoryInfo | undefined): { xLabel?: string; yLabel?: string } {
  if (!t || t.mode !== 'pca' || !t.explainedVariance) return {};
  return { xLabel: `PC1 (${pct(t.explainedVariance[0])} of variance)`, yLabel: `PC2 (${pct(t.explainedVariance[1])})` };
}

const TRAJECTORY_GAP = 16;

/**
 * Under a trajectory landscape: each checkpoint's distance to the centre and its residual off
 * the plane (or line), and the residual's share, on the step axis; returns the height drawn.
 */
function drawTrajectory(svg: Frame['svg'], t: TrajectoryInfo, top: number, width: number, theme: Theme, tooltip: Frame['tooltip']): number {
  if (t.steps.length < 2) return 0;
  const g: SvgG = svg.append('g').attr('class', 'lc-trajectory').attr('transform', `translate(0,${top + TRAJECTORY_GAP})`);
  const pos = t.steps.filter((s) => s > 0);
  const log = pos.length > 1 && Math.max(...pos) / Math.min(...pos) >= 100;
  const share = t.steps.map((_, i) => (t.distance[i] > 0 ? t.offPlane[i] / t.distance[i] : null));
  const off = t.mode === 'line' ? 'off the line' : 'off the plane';
  const layout = dashboard(
    g,
    {
      panels: [
        {
          id: 'trajectory-distance',
          title: `Checkpoints and the ${t.mode === 'line' ? 'line' : 'plane'}`,
          subtitle: `${t.mode === 'pca' ? '‖θₜ − θ_final‖' : t.mode === 'line' ? '‖θₜ − θ_from‖' : '‖θₜ − θ_first‖'} and the part the ${t.mode === 'line' ? 'line' : 'plane'} misses`,
          zero: true,
          format: (v) => formatValue(v),
          series: [
            { label: `distance to ${t.mode === 'pca' ? 'θ_final' : t.mode === 'line' ? 'θ_from' : 'the origin'}`, x: t.steps, y: t.distance, color: theme.primary, width: 2, points: true },
            { label: `residual ${off}`, x: t.steps, y: t.offPlane, color: theme.path, width: 2, points: true },
          ],
        },
        {
          id: 'trajectory-share',
          title: `Share ${off}`,
          subtitle: 'residual / distance',
          yDomain: [0, 1],
          format: pct,
          series: [{ label: 'share', x: t.steps, y: share, color: theme.path, dash: '5 3', points: true }],
        },
      ],
      events: t.anchors.map((a) => ({ x: a, label: t.mode === 'pca' ? `centre (step ${fmtStep(a)})` : `anchor ${fmtStep(a)}` })),
    },
    { width, panelHeight: 80, theme, x: log ? 'log' : 'linear', xLabel: 'training step', xFormat: fmtStep, tooltip },
  );
  return layout.height + TRAJECTORY_GAP;
}

function subtitle2D(r: LandscapeResult, p: Landscape2D, s: ViewState): string {
  const t = p.trajectory;
  const dirs = t ? (t.mode === 'pca' ? `PCA plane of ${t.steps.length} checkpoints` : `plane through steps ${t.anchors.map(fmtStep).join(', ')}`) : directionText(p);
  return [`${p.x.length} × ${p.y.length} grid`, dirs, r.provenance.loss.name, `${s.scale} colour scale`].join(' · ');
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

/** A partial result that is no longer being computed says why (the engine's status line). */
function stoppedReason(r: LandscapeResult): string | undefined {
  if (r.complete || !r.status || r.status === 'running') return undefined;
  return /^cancelled/.test(r.status) ? 'cancelled' : /^interrupted/.test(r.status) ? 'interrupted' : 'stopped';
}

function draw2D(frame: Frame, p: Landscape2D, title: string, subtitle: string, s: ViewState, theme: Theme, width: number, stopped?: string): void {
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
      { x: p.x, y: p.y, loss: p.loss, accuracy: p.accuracy, path: p.path, center: { x: 0, y: 0, label: p.trajectory ? '' : 'θ' }, stoppedReason: stopped, rowsDone: finishedRowsFromStart(p) },
      { width: cw, height: ch, levels, theme, tooltip: frame.tooltip, ...pcaLabels(p.trajectory) },
    );
  } else {
    surfaceChart(
      chart,
      { x: p.x, y: p.y, loss: p.loss, center: { x: 0, y: 0, loss: p.centerLoss }, rowsDone: finishedRowsFromStart(p) },
      {
        width: cw,
        height: ch,
        levels,
        theme,
        azimuth: s.azimuth,
        elevation: s.elevation,
        onHover: (event, at) => {
          if (!at) frame.tooltip.hide();
          else frame.tooltip.show(event, [['α', formatValue(at.x)], ['β', formatValue(at.y)], ['loss', levels.format(at.loss)]]);
        },
      },
    );
  }
  if (ext) {
    const bar: SvgG = svg.append('g').attr('transform', `translate(${cw + 8},${CAPTION_H + 8 + 14})`);
    colorbar(bar, { height: inner - 14, levels, theme, label: 'loss' });
  }
  if (p.trajectory) {
    const extra = drawTrajectory(svg, p.trajectory, CAPTION_H + ch, cw + COLORBAR_W, theme, frame.tooltip);
    const h = CAPTION_H + ch + extra;
    svg.attr('height', h).attr('viewBox', `0 0 ${cw + COLORBAR_W} ${h}`);
  }
}

function draw1D(frame: Frame, p: Landscape1D, title: string, subtitle: string, s: ViewState, theme: Theme, width: number): void {
  const height = Math.round(Math.max(260, Math.min(440, width * 0.5)));
  const svg = frame.svg;
  svg.selectAll('*').remove();
  svg.attr('width', width).attr('height', CAPTION_H + height).attr('viewBox', `0 0 ${width} ${CAPTION_H + height}`);
  caption(svg, title, subtitle);
  const chart: SvgG = svg.append('g').attr('transform', `translate(0,${CAPTION_H})`);
  const markers = p.endpoints ? endpointLabels(p).map((label, i) => ({ t: i, label })) : [];
  frame.tooltip.hide();
  lineChart(
    chart,
    { t: p.t, loss: p.loss, accuracy: p.accuracy, markers, center: { t: 0, loss: p.centerLoss, label: p.endpoints ? '' : 'θ' } },
    { width, height, theme, yScale: s.scale, xLabel: p.endpoints ? 't (θ₁ → θ₂)' : 't', tooltip: frame.tooltip },
  );
  if (p.trajectory) {
    const extra = drawTrajectory(svg, p.trajectory, CAPTION_H + height, width, theme, frame.tooltip);
    const h = CAPTION_H + height + extra;
    svg.attr('height', h).attr('viewBox', `0 0 ${width} ${h}`);
  }
}

/**
 * Names for the two models of a line: their steps for a trajectory line, else the shortest path
 * suffixes that tell them apart (checkpoints are often all called model.json).
 */
function endpointLabels(p: Landscape1D): [string, string] {
  const t = p.trajectory;
  if (t?.mode === 'line' && t.anchors.length === 2) return [`step ${fmtStep(t.anchors[0])}`, `step ${fmtStep(t.anchors[1])}`];
  const from = p.endpoints?.from ?? '';
  const to = p.endpoints?.to ?? '';
  if (basename(from) !== basename(to)) return [basename(from), basename(to)];
  const a = from.split(/[\\/]/).filter(Boolean);
  const b = to.split(/[\\/]/).filter(Boolean);
  for (let k = 2; k <= Math.max(a.length, b.length); k++) {
    const sa = a.slice(-k).join('/');
    const sb = b.slice(-k).join('/');
    if (sa !== sb) return [sa, sb];
  }
  return ['θ₁', 'θ₂'];
}

/** One row per checkpoint of a trajectory landscape: its coordinates on the plane (2D) and how far it lies off it. */
export function checkpointsCsv(p: Landscape1D | Landscape2D): string {
  const t = p.trajectory;
  if (!t) return toCsv(['step'], []);
  const path = p.dims === 2 ? (p.path ?? []) : [];
  return toCsv(
    ['step', 'checkpoint', 'alpha', 'beta', 'distance', 'offPlane'],
    t.steps.map((step, i) => [step, t.checkpoints[i] ?? null, path[i]?.x ?? null, path[i]?.y ?? null, t.distance[i] ?? null, t.offPlane[i] ?? null]),
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
