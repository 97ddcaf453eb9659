/**
 * The skeleton every panel shares: a header with the result's provenance, a toolbar, the
 * figure (one <svg>, so an export holds everything drawn) with its hover read-out, and notes.
 */
import { select } from 'd3';
import type { Selection } from 'd3';
import type { LosscapeResult, ModelResult } from '../../src/shared/result';
import { createTooltip, type Tooltip } from '../charts/tooltip';

export interface Frame {
  section: HTMLElement;
  header: HTMLElement;
  toolbar: HTMLElement;
  figure: HTMLElement;
  svg: Selection<SVGSVGElement, unknown, null, undefined>;
  svgNode: SVGSVGElement;
  tooltip: Tooltip;
  notes: HTMLElement;
  remove(): void;
}

export function createFrame(root: HTMLElement, label: string): Frame {
  const section = el('div', 'lc-panel');
  const header = el('header', 'lc-header');
  const toolbar = el('div', 'lc-toolbar');
  toolbar.setAttribute('role', 'toolbar');
  const figure = el('figure', 'lc-figure');
  const svgNode = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  const svg = select(svgNode).attr('class', 'lc-chart').attr('role', 'img').attr('aria-label', label);
  figure.appendChild(svgNode);
  const tooltip = createTooltip(figure);
  const notes = el('div', 'lc-notes');
  // Provenance below the figure (renderHeader fills it): the chart comes first in a side column.
  const provenance = el('details', 'lc-provenance');
  section.append(header, toolbar, figure, provenance, notes);
  root.appendChild(section);
  return { section, header, toolbar, figure, svg, svgNode, tooltip, notes, remove: () => section.remove() };
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The last path component, for display; the full path goes in a title attribute. */
export function basename(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

export type MetaItem = readonly [label: string, value: string, title?: string];

/**
 * Title, a complete/partial badge, and what the result was computed from (model, data, loss,
 * backend, seed, time), plus kind-specific `extra` items.
 */
export function renderHeader(
  header: HTMLElement,
  result: Pick<ModelResult, 'provenance' | 'complete' | 'status'>,
  title: string,
  progress: string | null,
  extra: ReadonlyArray<MetaItem>,
): void {
  const p = result.provenance;

  const samples =
    p.data.samplesUsed === p.data.sampleCount
      ? `${p.data.sampleCount.toLocaleString('en-US')} samples`
      : `${p.data.samplesUsed.toLocaleString('en-US')} of ${p.data.sampleCount.toLocaleString('en-US')} samples`;
  const lossText = `${p.loss.name}${p.loss.fromLogits ? ' (from logits)' : ''}${p.loss.origin === 'lens' ? ' · from a CodeLens' : ''}`;
  const items: MetaItem[] = [
    ['Model', `${basename(p.model.path)} · ${p.model.parameterCount.toLocaleString('en-US')} parameters`, `${p.model.path}\nsha256 ${p.model.sha256}`],
    ['Data', `${basename(p.data.path)} · ${samples}`, `${p.data.path}\nsha256 ${p.data.sha256}`],
    ['Loss', lossText, `from ${p.loss.origin === 'lens' && p.loss.lens ? `the CodeLens at ${p.loss.lens.file}:${p.loss.lens.line}` : p.loss.origin}`],
    ['Backend', `${p.backend.name} ${p.backend.version}`],
    ['Seed', String(p.seed)],
    ['Computed', `${p.timings.startedAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')} · ${formatSeconds(p.timings.seconds)}`],
    ...extra,
  ];
  renderTitleAndMeta(header, result, title, progress, items, {
    summary: `${basename(p.model.path)} · ${basename(p.data.path)} · ${samples} · ${lossText} · ${p.backend.name}`,
    note: lossNote(p.loss),
  });
}

/**
 * Title with its complete/partial badge (and a note, e.g. where the loss came from), then the
 * meta items (what a result was computed from): below the figure, in the frame's provenance box
 * headed by `more.summary`, when the frame has one, else in the header.
 */
export function renderTitleAndMeta(
  header: HTMLElement,
  result: Pick<LosscapeResult, 'complete' | 'status'>,
  title: string,
  progress: string | null,
  items: ReadonlyArray<MetaItem>,
  more: { summary?: string; note?: string } = {},
): void {
  const h = el('h2', 'lc-title');
  h.appendChild(el('span', 'lc-title-text', title));
  const badge = el('span', result.complete ? 'lc-badge lc-badge-complete' : 'lc-badge lc-badge-partial');
  badge.textContent = result.complete ? 'complete' : ['partial', progress, result.status].filter(Boolean).join(' · ');
  h.append(' ', badge);
  const dl = el('dl', 'lc-meta');
  for (const [label, value, tip] of items) {
    const item = el('div', 'lc-meta-item');
    const dt = el('dt', '', label);
    const dd = el('dd', '', value);
    if (tip) dd.title = tip;
    item.append(dt, dd);
    dl.appendChild(item);
  }
  const lens = more.note;
  const box = header.parentElement?.querySelector<HTMLDetailsElement>(':scope > .lc-provenance');
  if (!box) {
    header.replaceChildren(h, ...(lens ? [el('p', 'lc-loss-note', lens)] : []), dl);
    return;
  }
  const summary = el('summary', '', more.summary ?? items.map(([, v]) => v).slice(0, 3).join(' · '));
  // Open where there is room; a narrow column starts with the one-line summary (the user's toggle then stands).
  if (!box.dataset.touched) {
    box.open = (header.parentElement?.clientWidth ?? 0) >= 640;
    box.addEventListener('toggle', () => (box.dataset.touched = '1'), { once: true });
  }
  box.replaceChildren(summary, dl);
  header.replaceChildren(h, ...(lens ? [el('p', 'lc-loss-note', lens)] : []));
}

/** "Loss from the CodeLens at train.py:21 (nn.CrossEntropyLoss), not the configuration's mse", and the engine's warnings. */
function lossNote(loss: ModelResult['provenance']['loss']): string | undefined {
  const parts: string[] = [];
  if (loss.origin === 'lens' && loss.lens) {
    parts.push(
      `Loss from the CodeLens at ${basename(loss.lens.file)}:${loss.lens.line} (${loss.lens.symbol}${loss.lens.semantics ? `, which takes ${loss.lens.semantics}` : ''})` +
        (loss.lens.configured ? `, not the configuration's ${loss.lens.configured}.` : ', not from the configuration.'),
    );
  }
  for (const w of loss.warnings ?? []) parts.push(w);
  return parts.length ? parts.join(' ') : undefined;
}

/** A short duration: 850 ms, 12.3 s, 4 min 05 s, 1 h 02 min (no-break spaces: it never wraps). */
export function formatSeconds(s: number): string {
  const nb = '\u00a0';
  if (s < 1) return `${Math.round(s * 1000)}${nb}ms`;
  if (s < 60) return `${s.toFixed(1)}${nb}s`;
  if (s < 3600) return `${Math.floor(s / 60)}${nb}min ${String(Math.round(s % 60)).padStart(2, '0')}${nb}s`;
  return `${Math.floor(s / 3600)}${nb}h ${String(Math.round((s % 3600) / 60)).padStart(2, '0')}${nb}min`;
}

/** Definitions of the quantities shown, from the result file, as a collapsible list. */
export function renderDefinitions(notes: HTMLElement, definitions: Record<string, string> | undefined, extra: ReadonlyArray<string>): void {
  notes.replaceChildren();
  for (const line of extra) notes.appendChild(el('p', 'lc-note', line));
  const entries = Object.entries(definitions ?? {});
  if (entries.length === 0) return;
  const details = el('details', 'lc-definitions');
  details.appendChild(el('summary', '', 'Definitions'));
  const dl = el('dl', '');
  for (const [k, v] of entries) dl.append(el('dt', '', k), el('dd', '', v));
  details.appendChild(dl);
  notes.appendChild(details);
}
