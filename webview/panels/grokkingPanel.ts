/**
 * The grokking panel: a dashboard of small charts on one training-step axis (losses,
 * accuracy, parameter norm and distance per layer, NTK alignment, movement and effective rank,
 * trajectory KL, λ_max against 2/η), the detected events as rules through all of them and the
 * grokking delay shaded; for the seed paper's model its sufficient statistics and the test loss
 * they predict next to the measured one; for an α sweep the delay against α and each run's
 * curves. Exports SVG, PNG, the per-checkpoint CSV and the sweep CSV.
 */
import type { ResultOf } from '../../src/shared/result';
import type { GrokkingPayload, SweepRun } from '../../src/shared/results/grokking';
import { dashboard, type ChartPanel, type Series, type XBand, type XEvent } from '../charts/dashboard';
import { formatValue, isNum, type AxisKind } from '../charts/scales';
import type { Theme } from '../charts/theme';
import type { SvgG } from '../charts/types';
import { toCsv } from '../export';
import { segmented, toolGroup } from './controls';
import { createFrame, renderDefinitions, renderHeader, type MetaItem } from './frame';
import { CAPTION_H, caption, clearSvg, exportGroup, figureWidth, sizeSvg, spacer } from './figure';
import type { Panel, PanelContext, PanelFactory } from './panel';

type GrokkingResult = ResultOf<'grokking'>;

const PANEL_H = 88;

export const createGrokkingPanel: PanelFactory<'grokking'> = (root: HTMLElement, ctx: PanelContext): Panel<GrokkingResult> => {
  const frame = createFrame(root, 'Grokking statistics');
  let current: { result: GrokkingResult; title: string } | null = null;
  let xKind: AxisKind = 'linear';
  let xChosen = false;
  let toolbarBuilt = false;

  const draw = (): void => {
    if (!current) return;
    const { result, title } = current;
    const p = result.result;
    const theme = ctx.theme();
    const width = figureWidth(frame, 420, 980);
    clearSvg(frame);
    const sub = [
      `${p.steps.length} checkpoints`,
      p.steps.length ? `steps ${fmtStep(p.steps[0])}–${fmtStep(p.steps[p.steps.length - 1])}` : '',
      result.provenance.loss.name,
      p.probe.size ? `NTK on ${p.probe.size} probe samples` : 'no NTK',
      `${xKind} step axis`,
    ].filter(Boolean);
    caption(frame.svg, title, sub.join(' · '));
    const dash: SvgG = frame.svg.append('g').attr('class', 'lc-grokking-dashboard').attr('transform', `translate(0,${CAPTION_H})`);
    const layout = dashboard(
      dash,
      { panels: grokkingPanels(p, theme), events: eventRules(p), bands: delayBand(p) },
      { width, panelHeight: PANEL_H, theme, x: xKind, xLabel: 'training step', xFormat: fmtStep, tooltip: frame.tooltip },
    );
    let height = CAPTION_H + layout.height;
    if (p.sweep && p.sweep.runs.length) height = drawSweep(frame.svg.append('g').attr('class', 'lc-sweep'), p, theme, width, height, xKind, frame.tooltip);
    sizeSvg(frame, width, height + 8);
  };

  const buildToolbar = (): void => {
    toolbarBuilt = true;
    const scale = segmented<AxisKind>(
      'Step axis scale',
      [
        { value: 'linear', text: 'Linear' },
        { value: 'log', text: 'Log', title: 'logarithmic step axis (step 0 stays on it: symlog below the first step)' },
      ],
      xKind,
      (v) => {
        xKind = v;
        xChosen = true;
        draw();
      },
    );
    const name = (): string => current?.title ?? 'grokking';
    const csvs = [
      { label: 'CSV', title: 'Save every per-checkpoint series as CSV', name: 'checkpoints', make: () => (current ? grokkingCsv(current.result.result) : '') },
    ];
    if (current?.result.result.sweep) csvs.push({ label: 'Sweep CSV', title: 'Save the runs of the sweep as CSV', name: 'sweep', make: () => (current ? sweepCsv(current.result.result) : '') });
    frame.toolbar.replaceChildren(toolGroup('Step axis', scale.el), spacer(), exportGroup(frame, ctx, name, csvs));
    scale.set(xKind);
  };

  return {
    update(result, title) {
      const hadSweep = !!current?.result.result.sweep;
      current = { result, title };
      const p = result.result;
      if (!xChosen) xKind = suggestedX(p.steps);
      if (!toolbarBuilt || hadSweep !== !!p.sweep) buildToolbar();
      renderHeader(frame.header, result, title, `${p.checkpointsDone} of ${p.steps.length} checkpoints`, metaItems(p));
      renderDefinitions(frame.notes, result.definitions, notes(p));
      draw();
    },
    redraw: draw,
    destroy() {
      frame.tooltip.remove();
      frame.remove();
    },
  };
};

/** Log when the positive steps span two decades or more. */
function suggestedX(steps: ReadonlyArray<number>): AxisKind {
  const pos = steps.filter((s) => s > 0);
  return pos.length > 1 && Math.max(...pos) / Math.min(...pos) >= 100 ? 'log' : 'linear';
}

const fmtStep = (v: number): string => Math.round(v).toLocaleString('en-US');
const pct = (v: number): string => `${(v * 100).toFixed(1)}\u00a0%`;
const has = (s: ReadonlyArray<number | null> | null | undefined): s is ReadonlyArray<number | null> => !!s && s.some(isNum);

/** Log where the values are positive and span more than a decade and a half. */
function autoY(...series: ReadonlyArray<ReadonlyArray<number | null>>): AxisKind {
  const v = series.flat().filter(isNum);
  return v.length > 1 && v.every((x) => x > 0) && Math.max(...v) / Math.min(...v) >= 30 ? 'log' : 'linear';
}

/** The dashboard's panels, top to bottom; panels without data are left out. */
export function grokkingPanels(p: GrokkingPayload, theme: Theme): ChartPanel[] {
  const x = p.steps;
  const s = (label: string, y: ReadonlyArray<number | null>, color: string, extra: Partial<Series> = {}): Series => ({ label, x, y, color, ...extra });
  const panels: ChartPanel[] = [];
  panels.push({
    id: 'loss',
    title: 'Loss',
    subtitle: 'train and test',
    y: 'log',
    series: [s('train loss', p.trainLoss, theme.primary, { width: 2 }), ...(has(p.testLoss) ? [s('test loss', p.testLoss, theme.secondary, { width: 2 })] : [])],
  });
  if (has(p.trainAccuracy) || has(p.testAccuracy)) {
    panels.push({
      id: 'accuracy',
      title: 'Accuracy',
      yDomain: [0, 1],
      format: pct,
      series: [
        ...(has(p.trainAccuracy) ? [s('train accuracy', p.trainAccuracy, theme.primary)] : []),
        ...(has(p.testAccuracy) ? [s('test accuracy', p.testAccuracy, theme.secondary)] : []),
      ],
    });
  }
  panels.push({ id: 'norm', title: 'Parameter norm', subtitle: '‖θₜ‖', series: [s('‖θₜ‖', p.paramNorm, theme.primary)], y: autoY(p.paramNorm) });
  const layers = p.layers.filter((l) => has(l.distance));
  const many = layers.length > 6;
  panels.push({
    id: 'distance',
    title: 'Distance from initialisation',
    subtitle: '‖θₜ − θ₀‖ / ‖θ₀‖, whole and per layer',
    zero: true,
    series: [
      ...layers.map((l, i) => s(l.name, l.distance, theme.palette[i % theme.palette.length], { width: 1.1, dash: '4 2', legend: !many })),
      s('whole network', p.paramDistance, theme.foreground, { width: 2 }),
    ],
    legendExtra: many ? [{ label: `${layers.length} layers`, color: theme.palette[0], dash: '4 2', width: 1.1 }] : [],
  });
  if (has(p.ntkAlignment)) {
    panels.push({ id: 'ntk-alignment', title: 'Kernel–label alignment', subtitle: 'centred NTK, yᶜᵀKyᶜ / (‖K‖_F ‖yᶜ‖²)', series: [s('NTK alignment', p.ntkAlignment, theme.palette[0], { width: 2 })] });
  }
  if (has(p.ntkMovement) || has(p.ntkDistance)) {
    panels.push({
      id: 'ntk-movement',
      title: 'Kernel movement',
      subtitle: 'lazy ≈ 0, rich ≫ 0',
      zero: true,
      series: [
        ...(has(p.ntkMovement) ? [s('1 − cos(K₀, Kₜ)', p.ntkMovement, theme.palette[1], { width: 2 })] : []),
        ...(has(p.ntkDistance) ? [s('‖Kₜ − K₀‖/‖K₀‖', p.ntkDistance, theme.palette[1], { dash: '5 3' })] : []),
      ],
    });
  }
  if (has(p.ntkEffectiveRank)) {
    panels.push({ id: 'ntk-rank', title: 'NTK effective rank', subtitle: 'exp(entropy of the spectrum)', series: [s('effective rank', p.ntkEffectiveRank, theme.palette[4])] });
  }
  if (has(p.trajectoryKL)) {
    panels.push({ id: 'kl', title: 'Trajectory KL', subtitle: 'τ²·KL(p_{t−k} ‖ p_t)', y: autoY(p.trajectoryKL), series: [s('trajectory KL', p.trajectoryKL, theme.palette[5])] });
  } else if (has(p.outputChange)) {
    panels.push({ id: 'output-change', title: 'Output change', subtitle: 'mean ‖f_t(x) − f_{t−k}(x)‖²', y: autoY(p.outputChange), series: [s('output change', p.outputChange, theme.palette[5])] });
  }
  if (p.sharpness && has(p.sharpness.lambdaMax)) {
    const eta = p.sharpness.twoOverEta;
    panels.push({
      id: 'sharpness',
      title: 'Sharpness λ_max',
      subtitle: `${p.sharpness.operator === 'ggn' ? 'GGN' : 'Hessian'}, ${p.sharpness.samples} samples`,
      y: autoY(p.sharpness.lambdaMax, eta !== null ? [eta] : []),
      series: [s('λ_max', p.sharpness.lambdaMax, theme.primary, { width: 2 })],
      hlines: eta !== null ? [{ value: eta, label: `2/η = ${formatValue(eta, 3)}`, color: theme.path }] : [],
    });
  }
  if (p.seedModel) {
    const m = p.seedModel;
    panels.push({
      id: 'seed-loss',
      section: `Seed model (Kumar et al. 2023): α = ${formatValue(m.alpha, 3)}, ε = ${formatValue(m.epsilon, 3)}, N = ${m.width}, D = ${m.inputDim}${m.centred ? ', centred' : ''}`,
      title: 'Test loss: measured and predicted',
      subtitle: 'from the sufficient statistics',
      y: 'log',
      // Measured as dots, predicted as a line: where they agree the dots sit on the line.
      series: [s('predicted test loss', m.predictedTestLoss, theme.palette[0], { width: 2 }), s('measured test loss', p.testLoss, theme.secondary, { dash: 'none', points: true })],
    });
    panels.push({
      id: 'seed-stats',
      title: 'Sufficient statistics',
      subtitle: 'm = (1/N)Σwᵢ, M = (1/N)Σwᵢwᵢᵀ',
      y: 'log',
      series: [s('‖m‖²', m.mNorm2, theme.palette[0]), s('tr M', m.trM, theme.palette[1]), s('tr M²', m.trM2, theme.palette[3]), s('βᵀMβ', m.betaMBeta, theme.palette[4])],
    });
  }
  return panels;
}

function eventRules(p: GrokkingPayload): XEvent[] {
  return p.events.filter((e): e is typeof e & { step: number } => e.step !== null).map((e) => ({ x: e.step, label: `${e.label} @ ${fmtStep(e.step)}` }));
}

function delayBand(p: GrokkingPayload): XBand[] {
  const train = p.events.find((e) => e.id === 'train-loss');
  const test = p.events.find((e) => e.id === 'test-loss');
  if (p.grokkingDelay === null || !train || !test || train.step === null || test.step === null || test.step <= train.step) return [];
  return [{ x0: train.step, x1: test.step, label: `grokking delay ${fmtStep(p.grokkingDelay)} steps` }];
}

function drawSweep(g: SvgG, p: GrokkingPayload, theme: Theme, width: number, top: number, xKind: AxisKind, tooltip: Parameters<typeof dashboard>[2]['tooltip']): number {
  const sw = p.sweep;
  if (!sw) return top;
  const y0 = top + 8;
  g.append('line').attr('x1', 8).attr('x2', width - 8).attr('y1', y0).attr('y2', y0).attr('stroke', theme.muted).attr('stroke-opacity', 0.4);
  g.append('text').attr('class', 'lc-section-title').attr('x', 8).attr('y', y0 + 22).text(`Sweep over ${sw.label}`);
  g.append('text')
    .attr('class', 'lc-figure-subtitle')
    .attr('x', 8)
    .attr('y', y0 + 38)
    .text(`${sw.runs.length} runs · train loss ≤ ${formatValue(sw.trainThreshold, 3)}, test loss ≤ ${formatValue(sw.testThreshold, 3)} · delay = test step − train step`);
  const two = width >= 760;
  const w = two ? Math.floor((width - 16) / 2) : width;
  const runs = sw.runs;
  const color = (i: number): string => theme.sequential(runs.length > 1 ? i / (runs.length - 1) : 0.5);
  const values = runs.map((r) => r.value);
  const vKind: AxisKind = values.every((v) => v > 0) && Math.max(...values) / Math.min(...values) >= 8 ? 'log' : 'linear';
  const at = (key: 'delay' | 'trainStep' | 'testStep'): (number | null)[] => runs.map((r) => r[key]);
  const top1 = y0 + 48;
  const left = g.append('g').attr('class', 'lc-sweep-delay').attr('transform', `translate(0,${top1})`);
  const l1 = dashboard(
    left,
    {
      panels: [
        {
          id: 'sweep-delay',
          title: 'Grokking delay',
          subtitle: 'steps',
          y: autoY(at('delay'), at('trainStep'), at('testStep')),
          series: [
            { label: 'delay', x: values, y: at('delay'), color: theme.foreground, width: 2, points: true },
            { label: 'train threshold step', x: values, y: at('trainStep'), color: theme.primary, dash: '5 3', points: true },
            { label: 'test threshold step', x: values, y: at('testStep'), color: theme.secondary, dash: '5 3', points: true },
          ],
        },
      ],
    },
    { width: w, panelHeight: 170, theme, x: vKind, xLabel: sw.label, xTicks: values, xFormat: (v) => formatValue(v, 3), tooltip },
  );
  const right = g.append('g').attr('class', 'lc-sweep-runs').attr('transform', two ? `translate(${w + 16},${top1})` : `translate(0,${top1 + l1.height + 8})`);
  const l2 = dashboard(
    right,
    {
      panels: [
        {
          id: 'sweep-runs',
          title: 'Loss per run',
          subtitle: 'test solid, train dashed',
          y: 'log',
          series: runs.flatMap((r: SweepRun, i) => [
            { label: `test, ${r.label}`, x: r.steps, y: r.testLoss, color: color(i), width: 2 },
            { label: `train, ${r.label}`, x: r.steps, y: r.trainLoss, color: color(i), width: 1.2, dash: '4 3', legend: false },
          ]),
          hlines: [{ value: sw.testThreshold, label: 'test threshold', color: theme.muted }],
        },
      ],
    },
    { width: w, panelHeight: 170, theme, x: xKind, xLabel: 'training step', xFormat: fmtStep, tooltip },
  );
  return two ? top1 + Math.max(l1.height, l2.height) : top1 + l1.height + 8 + l2.height;
}

function metaItems(p: GrokkingPayload): MetaItem[] {
  const items: MetaItem[] = [];
  const n = p.steps.length;
  if (n) items.push(['Checkpoints', `${n} · steps ${fmtStep(p.steps[0])} … ${fmtStep(p.steps[n - 1])}`, p.checkpoints.map((c) => `${c.step}\t${c.path}`).join('\n')]);
  items.push(['NTK probe', p.probe.size ? `${p.probe.size} samples · seed ${p.probe.seed} · ${p.probe.outputs} output${p.probe.outputs === 1 ? '' : 's'}` : 'off']);
  const train = p.events.find((e) => e.id === 'train-loss');
  const test = p.events.find((e) => e.id === 'test-loss');
  const delay =
    p.grokkingDelay !== null
      ? `${fmtStep(p.grokkingDelay)} steps`
      : train?.step !== null && train?.step !== undefined
        ? test?.step === null
          ? 'test loss never reached its threshold'
          : '—'
        : 'train loss never reached its threshold';
  items.push(['Grokking delay', delay, p.events.map((e) => `${e.label}: ${e.step === null ? 'never' : `step ${fmtStep(e.step)}`}`).join('\n')]);
  if (p.sharpness) items.push(['Sharpness', `λ_max of the ${p.sharpness.operator === 'ggn' ? 'GGN' : 'Hessian'} · ${p.sharpness.samples} samples${p.sharpness.twoOverEta !== null ? ` · 2/\u2060η\u00a0=\u00a0${formatValue(p.sharpness.twoOverEta, 3)}` : ''}`]);
  return items;
}

function notes(p: GrokkingPayload): string[] {
  const out: string[] = [];
  const never = p.events.filter((e) => e.step === null);
  if (never.length) out.push(`Not reached: ${never.map((e) => e.label).join('; ')}.`);
  if (p.sweep?.note) out.push(p.sweep.note);
  const noDelay = p.sweep?.runs.filter((r) => r.delay === null) ?? [];
  if (noDelay.length) out.push(`No delay (a threshold never reached) for ${noDelay.map((r) => r.label).join(', ')}.`);
  return out;
}

/** One row per checkpoint, every series as a column (per-layer ones named after the layer). */
export function grokkingCsv(p: GrokkingPayload): string {
  const cols: [string, ReadonlyArray<number | null> | null | undefined][] = [
    ['trainLoss', p.trainLoss],
    ['testLoss', p.testLoss],
    ['trainAccuracy', p.trainAccuracy],
    ['testAccuracy', p.testAccuracy],
    ['paramNorm', p.paramNorm],
    ['paramDistance', p.paramDistance],
    ['ntkAlignment', p.ntkAlignment],
    ['ntkMovement', p.ntkMovement],
    ['ntkDistance', p.ntkDistance],
    ['ntkEffectiveRank', p.ntkEffectiveRank],
    ['ntkTrace', p.ntkTrace],
    ['trajectoryKL', p.trajectoryKL],
    ['outputChange', p.outputChange],
    ['lambdaMax', p.sharpness?.lambdaMax],
    ...p.layers.flatMap((l): [string, ReadonlyArray<number | null>][] => [
      [`norm:${l.name}`, l.norm],
      [`distance:${l.name}`, l.distance],
    ]),
  ];
  if (p.seedModel) {
    const m = p.seedModel;
    cols.push(['seed:mNorm2', m.mNorm2], ['seed:trM', m.trM], ['seed:trM2', m.trM2], ['seed:betaMBeta', m.betaMBeta], ['seed:predictedTestLoss', m.predictedTestLoss]);
  }
  const present = cols.filter((c): c is [string, ReadonlyArray<number | null>] => !!c[1]);
  return toCsv(
    ['step', 'checkpoint', ...present.map((c) => c[0])],
    p.steps.map((step, i) => [step, p.checkpoints[i]?.path ?? null, ...present.map((c) => c[1][i] ?? null)]),
  );
}

/** Tidy: one row per (run, step). */
export function sweepCsv(p: GrokkingPayload): string {
  const sw = p.sweep;
  const rows: (string | number | null)[][] = [];
  for (const r of sw?.runs ?? []) r.steps.forEach((step, i) => rows.push([r.value, r.label, step, r.trainLoss[i] ?? null, r.testLoss[i] ?? null, r.ntkAlignment[i] ?? null, r.trainStep, r.testStep, r.delay]));
  return toCsv([sw?.parameter ?? 'value', 'label', 'step', 'trainLoss', 'testLoss', 'ntkAlignment', 'trainStep', 'testStep', 'delay'], rows);
}
