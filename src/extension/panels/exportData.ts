/**
 * The bytes of an export the webview asked to save: SVG and CSV arrive as text, PNG as a
 * base64 data URL. Pure; the message has already been validated against WebviewToHostSchema.
 */
import type { WebviewToHost } from '../../shared/webviewProtocol';

export type ExportMessage = Extract<WebviewToHost, { type: 'export' }>;

export const EXPORT_FILTERS: Record<ExportMessage['format'], Record<string, string[]>> = {
  svg: { 'SVG image': ['svg'] },
  png: { 'PNG image': ['png'] },
  csv: { 'CSV table': ['csv'] },
};

export function exportBytes(msg: ExportMessage): Uint8Array {
  if (msg.format !== 'png') return new TextEncoder().encode(msg.data);
  const m = /^data:image\/png;base64,([A-Za-z0-9+/]+={0,2})$/.exec(msg.data);
  if (!m) throw new Error('the PNG export is not a base64 PNG data URL');
  const bytes = Buffer.from(m[1], 'base64');
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 8 || signature.some((b, i) => bytes[i] !== b)) throw new Error('the PNG export does not hold a PNG image');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The suggested name with the format's extension. */
export function exportFileName(msg: ExportMessage): string {
  const base = msg.suggestedName.replace(/\.(svg|png|csv)$/i, '');
  return `${base}.${msg.format}`;
}
