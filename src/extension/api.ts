import type { RenderRecord } from './panels/panelManager';

/**
 * What activate() returns: a small surface for the integration tests (and other extensions),
 * read through `vscode.extensions.getExtension('losscape.losscape').exports`.
 */
export interface LosscapeApi {
  /** The engine process id while one runs. */
  enginePid(): number | undefined;
  /** The backend the engine reported, once started. */
  backend(): string | undefined;
  /** What webview panels reported drawing, oldest first. */
  renders(): readonly RenderRecord[];
  /** How many analysis panels are open (one per configuration). */
  panelCount(): number;
  /** Re-reads every losscape.json into the Problems panel; resolves when done. */
  refreshDiagnostics(): Promise<void>;
  /** How long activate() took, in milliseconds. */
  readonly activationMs: number;
}
