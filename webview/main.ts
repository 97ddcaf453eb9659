/**
 * Webview entry point (bundled to dist/webview.js, an iife). Two modes:
 *
 * - VS Code panel (`acquireVsCodeApi` exists): posts `ready`, renders each HostToWebview
 *   `show` (partial results re-render in place), posts `rendered` with the time taken.
 * - Standalone report (no VS Code): renders every `{ title, result }` of the JSON in
 *   `<script type="application/json" id="losscape-data">`, one section each.
 *
 * Both draw into `#losscape-root` (or <body> if it is missing). Nothing here evaluates code
 * or sets inline handlers: the page CSP allows only nonce'd scripts.
 */
import type { LosscapeResult } from '../src/shared/result';
import type { HostToWebview, PanelState, WebviewToHost } from '../src/shared/webviewProtocol';
import { readTheme } from './charts/theme';
import { downloadSink, hostSink, type ExportSink } from './export';
import type { Panel, PanelContext } from './panels/panel';
import { createPanel, isKnownKind } from './panels/registry';

interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  /** Kept by VS Code with the window; handed to the host's serializer after a reload. */
  setState(state: PanelState): void;
}
declare global {
  // Injected by VS Code into webviews; absent in the standalone report.
  // eslint-disable-next-line no-var
  var acquireVsCodeApi: (() => VsCodeApi) | undefined;
}

interface Mounted {
  kind: string;
  panel: Panel;
  root: HTMLElement;
}

function rootElement(): HTMLElement {
  return document.getElementById('losscape-root') ?? document.body;
}

function context(exportSink: ExportSink, report: PanelContext['report']): PanelContext {
  return { exportSink, theme: () => readTheme(document.body), report };
}

const KIND_TITLES: Record<LosscapeResult['kind'], string> = {
  landscape: 'Loss landscape',
  grokking: 'Grokking statistics',
  hessian: 'Hessian spectrum',
  sharpness: 'Sharpness',
  'loss-comparison': 'Loss comparison',
  saliency: 'Pruning saliency',
  scaling: 'Scaling law',
};

function titleOf(result: LosscapeResult, title: string | undefined): string {
  const name = result.kind === 'landscape' && result.result.trajectory ? 'Trajectory landscape' : KIND_TITLES[result.kind];
  const from = result.kind === 'scaling' ? (result.provenance.inputs[0]?.path ?? 'runs') : result.provenance.model.path;
  return title ?? `${name} — ${from.split(/[\\/]/).pop() ?? 'model'}`;
}

/** Redraws a panel when its width changes (window resize, sidebar drag), once per frame. */
function watchWidth(m: Mounted): () => void {
  let width = m.root.clientWidth;
  let queued = false;
  const ro = new ResizeObserver(() => {
    if (queued || m.root.clientWidth === width) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      width = m.root.clientWidth;
      m.panel.redraw();
    });
  });
  ro.observe(m.root);
  return () => ro.disconnect();
}

function statusBanner(root: HTMLElement): (text: string, level: 'info' | 'error') => void {
  const banner = document.createElement('div');
  banner.className = 'lc-status';
  banner.setAttribute('role', 'status');
  banner.hidden = true;
  root.prepend(banner);
  return (text, level) => {
    banner.textContent = text;
    banner.dataset.level = level;
    banner.hidden = text === '';
  };
}

function runPanelMode(api: VsCodeApi): void {
  // The tab and the figure's own caption name the result already: the heading's text is kept for screen readers only.
  document.documentElement.classList.add('lc-in-vscode');
  const root = rootElement();
  const setStatus = statusBanner(root);
  const host = document.createElement('div');
  host.className = 'lc-host';
  root.appendChild(host);
  const ctx = context(hostSink((m) => api.postMessage(m)), (level, message) => {
    setStatus(message, level);
    api.postMessage({ type: 'log', level: level === 'error' ? 'error' : 'info', message });
  });
  let mounted: (Mounted & { unwatch: () => void }) | null = null;

  window.addEventListener('error', (e) => api.postMessage({ type: 'log', level: 'error', message: String(e.message).slice(0, 10_000) }));
  window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
    const msg = event.data;
    if (!msg || typeof msg !== 'object') return;
    switch (msg.type) {
      case 'show': {
        const start = performance.now();
        const kind = msg.result.kind;
        if (!isKnownKind(kind)) {
          setStatus(`This version of Losscape cannot show results of kind "${String(kind)}".`, 'error');
          return;
        }
        if (!mounted || mounted.kind !== kind) {
          mounted?.unwatch();
          mounted?.panel.destroy();
          const m: Mounted = { kind, panel: createPanel(kind, host, ctx), root: host };
          mounted = { ...m, unwatch: watchWidth(m) };
        }
        mounted.panel.update(msg.result, titleOf(msg.result, msg.title));
        if (msg.restore) api.setState(msg.restore);
        api.postMessage({ type: 'rendered', kind, milliseconds: performance.now() - start });
        break;
      }
      case 'status':
        setStatus(msg.text, msg.level);
        break;
      case 'theme':
        // CSS variables and body classes have already changed; data colours need a redraw.
        mounted?.panel.redraw();
        break;
    }
  });
  // VS Code flips the body's theme classes on a theme change; the `theme` message may come later
  // or not at all, so the class change itself triggers the redraw of data colours.
  new MutationObserver(() => mounted?.panel.redraw()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  api.postMessage({ type: 'ready' });
}

interface ReportEntry {
  title: string;
  result: LosscapeResult;
}

function readEntries(): ReportEntry[] {
  const script = document.getElementById('losscape-data');
  if (!script?.textContent) return [];
  const parsed: unknown = JSON.parse(script.textContent);
  if (!Array.isArray(parsed)) throw new Error('report data is not a list of results');
  return parsed.filter(isEntry);
}

/** A shape check only: the CLI validated each result against ResultSchema when it built the report. */
function isEntry(e: unknown): e is ReportEntry {
  return (
    typeof e === 'object' && e !== null && 'title' in e && typeof e.title === 'string' && 'result' in e && typeof e.result === 'object' && e.result !== null
  );
}

function runReportMode(): void {
  const root = rootElement();
  const setStatus = statusBanner(root);
  const ctx = context(downloadSink(document), (_level, message) => setStatus(message, 'error'));
  let entries: ReportEntry[] = [];
  try {
    entries = readEntries();
  } catch (e) {
    setStatus(`Could not read the report data: ${e instanceof Error ? e.message : String(e)}`, 'error');
  }
  const mounted: Mounted[] = [];
  for (const entry of entries) {
    const section = document.createElement('section');
    section.className = 'lc-section';
    root.appendChild(section);
    const kind = entry.result.kind;
    if (!isKnownKind(kind)) {
      section.textContent = `${entry.title}: results of kind "${String(kind)}" cannot be shown by this version.`;
      continue;
    }
    const start = performance.now();
    const panel = createPanel(kind, section, ctx);
    panel.update(entry.result, entry.title);
    // Exposed for tests and benchmarks; the render is synchronous, so this is its full cost.
    section.dataset.kind = kind;
    section.dataset.renderMs = (performance.now() - start).toFixed(1);
    mounted.push({ kind, panel, root: section });
  }
  for (const m of mounted) watchWidth(m);
  document.documentElement.dataset.losscapeRendered = String(mounted.length);
}

const api = typeof globalThis.acquireVsCodeApi === 'function' ? globalThis.acquireVsCodeApi() : undefined;
if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', () => (api ? runPanelMode(api) : runReportMode()), { once: true });
} else if (api) runPanelMode(api);
else runReportMode();
