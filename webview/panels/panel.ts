import type { LosscapeResult, ResultKind, ResultOf } from '../../src/shared/result';
import type { Theme } from '../charts/theme';
import type { ExportSink } from '../export';

/** What a panel gets from the page it lives in (VS Code webview or standalone report). */
export interface PanelContext {
  /** Where exports go: a message to the host, or a browser download. */
  exportSink: ExportSink;
  /** The current theme colours; panels read it at each draw, so a redraw follows a theme change. */
  theme(): Theme;
  /** A problem worth telling the user about that does not stop the panel (an export failed). */
  report(level: 'info' | 'error', message: string): void;
}

/**
 * One rendered result. `update` is called again for each partial result of a running
 * analysis and must keep the user's view choices (scale, view, rotation).
 */
export interface Panel<R extends LosscapeResult = LosscapeResult> {
  update(result: R, title: string): void;
  /** Draws again at the current size and theme. */
  redraw(): void;
  destroy(): void;
}

/** A panel for one result kind: one file `panels/<kind>Panel.ts`, registered in registry.ts. */
export type PanelFactory<K extends ResultKind> = (root: HTMLElement, ctx: PanelContext) => Panel<ResultOf<K>>;
