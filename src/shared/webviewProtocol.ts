import { z } from 'zod';
import type { LosscapeResult } from './result';

/**
 * Messages between the extension host and a Losscape webview panel, a tagged union per
 * direction. The host validates everything the webview sends with `WebviewToHostSchema`
 * (a webview is untrusted input); the webview trusts the host.
 */

/**
 * What an analysis panel keeps in its webview state (VS Code stores it with the window) so that
 * "Reload Window" reopens it: the result file and the panel's key (one panel per configuration).
 * Read back by the host's WebviewPanelSerializer, which validates it like any webview input.
 */
export const PanelStateSchema = z.object({
  key: z.string().min(1).max(4000),
  file: z.string().min(1).max(4000),
  title: z.string().max(400).optional(),
});
export type PanelState = z.infer<typeof PanelStateSchema>;

/** Host → webview. */
export type HostToWebview =
  /** Show a result (complete or partial); the panel re-renders progressively; `restore` is kept as the webview state. */
  | { type: 'show'; result: LosscapeResult; title?: string; restore?: PanelState }
  /** An analysis failed or was cancelled; the panel keeps what it shows and says so. */
  | { type: 'status'; text: string; level: 'info' | 'error' }
  /** Theme kind changed (the CSS variables update by themselves). */
  | { type: 'theme'; kind: 'light' | 'dark' | 'high-contrast' | 'high-contrast-light' };

/** Webview → host. */
export const WebviewToHostSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  /** Save an export the webview produced; the host asks where and writes it. */
  z.object({
    type: z.literal('export'),
    format: z.enum(['svg', 'png', 'csv']),
    suggestedName: z.string().max(200).regex(/^[\w.\- ]+$/),
    /** SVG/CSV as text; PNG as a base64 data URL. */
    data: z.string().max(50_000_000),
  }),
  z.object({ type: z.literal('recompute') }),
  z.object({ type: z.literal('log'), level: z.enum(['info', 'warn', 'error']), message: z.string().max(10_000) }),
  /** Time to render the last `show`, for the benchmark and tests. */
  z.object({ type: z.literal('rendered'), kind: z.string().max(40), milliseconds: z.number().nonnegative() }),
]);
export type WebviewToHost = z.infer<typeof WebviewToHostSchema>;
