/**
 * Export of what a panel shows: the figure as SVG or PNG, the numbers as CSV.
 *
 * The figure's look comes partly from media/losscape.css and VS Code's CSS variables, which a
 * standalone file does not have, so the SVG export copies each element's computed style onto
 * it as presentation attributes (not `style` attributes, which a nonce-only style-src may
 * refuse). PNG rasterises that SVG through an <img> loaded from a
 * blob: URL, which the panel CSP allows (`img-src data: blob:`); no fetch, no eval.
 *
 * Where the file goes is the sink's business: the VS Code panel posts it to the host, which
 * asks where to save; the standalone report triggers a browser download.
 */
import type { WebviewToHost } from '../src/shared/webviewProtocol';

export type ExportFormat = 'svg' | 'png' | 'csv';

export interface ExportFile {
  format: ExportFormat;
  /** File name with extension; matches the host's `[\w.\- ]+`. */
  suggestedName: string;
  /** SVG and CSV as text, PNG as a base64 data URL (the protocol's encoding). */
  data: string;
}

export type ExportSink = (file: ExportFile) => void;

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Properties that inherit: copied only where they differ from the parent's. */
const INHERITED = [
  'fill',
  'fill-opacity',
  'stroke',
  'stroke-width',
  'stroke-opacity',
  'stroke-dasharray',
  'stroke-linecap',
  'stroke-linejoin',
  'font-family',
  'font-size',
  'font-weight',
  'font-style',
  'text-anchor',
  'dominant-baseline',
  'paint-order',
  'visibility',
] as const;

/** A file name the host accepts: letters, digits, `_ . - space`, and the extension. */
export function safeFileName(title: string, ext: string): string {
  // Lower case, hyphens for spaces and separators: "tiny-2d-loss-landscape-2d.svg" reads in any shell.
  const stem = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^\w.\-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 150);
  return `${stem || 'losscape'}.${ext}`;
}

/**
 * Serialises a chart to a standalone SVG document: computed styles inlined as attributes,
 * a background rectangle in `background`, hover-only elements dropped.
 */
export function svgToString(svg: SVGSVGElement, background: string): string {
  const clone = svg.cloneNode(true);
  if (!(clone instanceof SVGSVGElement)) throw new Error('cloning the figure failed');
  inlineStyles(svg, clone, null);
  for (const el of Array.from(clone.querySelectorAll('.lc-hover-target, .lc-hover-dot, .lc-hover-rule'))) el.remove();
  const width = svg.width.baseVal.value;
  const height = svg.height.baseVal.value;
  clone.setAttribute('xmlns', SVG_NS);
  clone.setAttribute('width', String(width));
  clone.setAttribute('height', String(height));
  if (!clone.hasAttribute('viewBox')) clone.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const bg = document.createElementNS(SVG_NS, 'rect');
  bg.setAttribute('width', '100%');
  bg.setAttribute('height', '100%');
  bg.setAttribute('fill', background);
  clone.insertBefore(bg, clone.firstChild);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(clone)}`;
}

function inlineStyles(src: Element, dst: Element, parent: CSSStyleDeclaration | null): void {
  const cs = getComputedStyle(src);
  for (const prop of INHERITED) {
    const v = cs.getPropertyValue(prop);
    if (v && (parent === null || parent.getPropertyValue(prop) !== v)) dst.setAttribute(prop, v);
  }
  // Not inherited: copy only non-defaults (an opacity copied twice would compound).
  const opacity = cs.getPropertyValue('opacity');
  if (opacity && opacity !== '1') dst.setAttribute('opacity', opacity);
  if (cs.getPropertyValue('display') === 'none') dst.setAttribute('display', 'none');
  dst.removeAttribute('style');
  const a = src.children;
  const b = dst.children;
  for (let i = 0; i < a.length && i < b.length; i++) inlineStyles(a[i], b[i], cs);
}

/** Rasterises SVG text to a PNG data URL at `scale`× (crisp on high-DPI screens and slides). */
export async function svgToPngDataUrl(svgText: string, width: number, height: number, scale = 2): Promise<string> {
  const url = URL.createObjectURL(new Blob([svgText], { type: 'image/svg+xml;charset=utf-8' }));
  try {
    const img = new Image();
    await new Promise<void>((resolve, reject) => {
      img.addEventListener('load', () => resolve(), { once: true });
      img.addEventListener('error', () => reject(new Error('the figure could not be rasterised')), { once: true });
      img.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas available for PNG export');
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0, width, height);
    return canvas.toDataURL('image/png');
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** RFC 4180 CSV; null is an empty cell (not computed), numbers keep full precision. */
export function toCsv(header: ReadonlyArray<string>, rows: Iterable<ReadonlyArray<string | number | null>>): string {
  const cell = (v: string | number | null): string => {
    if (v === null) return '';
    const s = String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [header.map(cell).join(',')];
  for (const row of rows) lines.push(row.map(cell).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** VS Code panel: the host validates the message, asks where to save, and writes the file. */
export function hostSink(post: (message: WebviewToHost) => void): ExportSink {
  return (file) => post({ type: 'export', format: file.format, suggestedName: file.suggestedName, data: file.data });
}

/** Standalone report: a browser download through a temporary <a download>. */
export function downloadSink(doc: Document = document): ExportSink {
  return (file) => {
    const blob = file.format === 'png' ? dataUrlToBlob(file.data) : new Blob([file.data], { type: MIME[file.format] });
    const url = URL.createObjectURL(blob);
    const a = doc.createElement('a');
    a.href = url;
    a.download = file.suggestedName;
    a.hidden = true;
    doc.body.appendChild(a);
    a.click();
    a.remove();
    // Revoking at once can cancel the download in some browsers; a minute is plenty.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  };
}

const MIME: Record<ExportFormat, string> = {
  svg: 'image/svg+xml;charset=utf-8',
  png: 'image/png',
  csv: 'text/csv;charset=utf-8',
};

function dataUrlToBlob(dataUrl: string): Blob {
  const comma = dataUrl.indexOf(',');
  const bin = atob(dataUrl.slice(comma + 1));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Blob([bytes], { type: 'image/png' });
}

/** Exports a figure in `format` through `sink`; PNG is asynchronous, errors go to `onError`. */
export function exportFigure(
  svg: SVGSVGElement,
  format: 'svg' | 'png',
  name: string,
  background: string,
  sink: ExportSink,
  onError: (e: Error) => void,
): void {
  const text = svgToString(svg, background);
  if (format === 'svg') {
    sink({ format, suggestedName: safeFileName(name, 'svg'), data: text });
    return;
  }
  svgToPngDataUrl(text, svg.width.baseVal.value, svg.height.baseVal.value)
    .then((data) => sink({ format, suggestedName: safeFileName(name, 'png'), data }))
    .catch((e: unknown) => onError(e instanceof Error ? e : new Error(String(e))));
}
