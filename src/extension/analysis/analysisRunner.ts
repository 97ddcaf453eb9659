/**
 * Runs one analysis end to end: reuse a cached complete result unless asked to recompute;
 * otherwise a cancellable progress notification (percentage, time left) while the engine
 * works, partial results streamed into the panel, and a clear message for a cancelled, failed
 * or crashed run (the engine has written the partial result file by then).
 */
import path from 'node:path';
import * as vscode from 'vscode';
import { EngineError } from '../../client/engineClient';
import type { AnalysisSpecInput, ProgressParams } from '../../shared/protocol';
import type { LosscapeResult } from '../../shared/result';
import type { EngineManager } from '../engine/engineManager';
import { RUNNING_CONTEXT_KEY } from '../commands/commandIds';
import { describeProblem, engineErrorInConfiguration } from '../config/configProblems';
import type { FolderConfiguration } from '../config/configStore';
import { OPEN_CONFIGURATION, openConfiguration } from '../config/openConfiguration';
import type { LosscapePanel } from '../panels/losscapePanel';
import type { PanelManager } from '../panels/panelManager';
import { readCompleteResult, readResultFile } from '../results/readResult';
import { errorMessage } from '../util/disposables';
import { estimateTimeLeft, ProgressIncrements } from './eta';

export interface AnalysisRequest {
  /** The engine spec, with its `out` (the result file). */
  spec: AnalysisSpecInput;
  /** Panel and notification title. */
  title: string;
  /** Bypass the cached result. */
  recompute?: boolean;
  /** The configuration it runs (errors name it and offer to open it; its panel is reused). */
  configuration?: FolderConfiguration;
  /** The panel to show it in (default: the configuration's, else the result file's). */
  key?: string;
}

export { RUNNING_CONTEXT_KEY };

/** One panel per configuration (folder + name); a result opened otherwise by its file. */
export function panelKey(req: Pick<AnalysisRequest, 'configuration' | 'spec' | 'key'>): string {
  if (req.key) return req.key;
  return req.configuration ? `config:${req.configuration.folder.uri.toString()}#${req.configuration.config.name}` : `file:${req.spec.out}`;
}

/** What a run came to; also what the commands return (tests read it). */
export interface AnalysisReport {
  out: string;
  /** The result file holds a complete result. */
  complete: boolean;
  /** It was reused from the cache, not computed. */
  cached: boolean;
  cancelled: boolean;
  /** Why the run failed, when it did (not for a cancellation). */
  error?: string;
}

export class AnalysisRunner implements vscode.Disposable {
  private readonly active = new Set<vscode.CancellationTokenSource>();

  constructor(
    private readonly engine: EngineManager,
    private readonly panels: PanelManager,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  get runningCount(): number {
    return this.active.size;
  }

  /** Cancels every running analysis; returns how many there were. */
  cancelAll(): number {
    const n = this.active.size;
    for (const cts of this.active) cts.cancel();
    return n;
  }

  private setRunning(): void {
    void vscode.commands.executeCommand('setContext', RUNNING_CONTEXT_KEY, this.active.size > 0);
  }

  async run(req: AnalysisRequest): Promise<AnalysisReport> {
    const out = req.spec.out;
    const recompute = (): void => void this.run({ ...req, recompute: true });
    if (!req.recompute) {
      const cached = await readCompleteResult(out);
      if (cached) {
        this.panels.forResult(panelKey(req), out, req.title, recompute).show(cached, req.title);
        this.log.info(`reusing ${out} (same model, data, loss and options)`);
        void vscode.window.showInformationMessage(`Losscape: showing the saved result of "${req.title}" (same model, data, loss and options).`, 'Recompute').then((choice) => {
          if (choice === 'Recompute') recompute();
        });
        return { out, complete: true, cached: true, cancelled: false };
      }
    }
    const panel = this.panels.forResult(panelKey(req), out, req.title, recompute);
    panel.status('Computing…');
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Losscape: ${req.title}`, cancellable: true },
      (progress, token) => this.execute(req, panel, progress, token),
    );
  }

  private async execute(
    req: AnalysisRequest,
    panel: LosscapePanel,
    progress: vscode.Progress<{ message?: string; increment?: number }>,
    token: vscode.CancellationToken,
  ): Promise<AnalysisReport> {
    const out = req.spec.out;
    const cts = new vscode.CancellationTokenSource();
    const link = token.onCancellationRequested(() => cts.cancel());
    this.active.add(cts);
    this.setRunning();
    const started = Date.now();
    const increments = new ProgressIncrements();
    progress.report({ message: 'starting the engine…' });
    const onProgress = (p: ProgressParams): void => {
      const eta = estimateTimeLeft(Date.now() - started, p.fraction);
      progress.report({ increment: increments.next(p.fraction), message: [`${Math.round(p.fraction * 100)} %`, p.message, eta].filter(Boolean).join(' · ') });
      if (p.partial) panel.show(p.partial, req.title);
    };
    this.log.info(`running ${req.spec.kind} "${req.title}" → ${out}`);
    try {
      const outcome = await this.engine.run(req.spec, onProgress, cts.token);
      panel.show(outcome.result, req.title);
      this.log.info(`finished "${req.title}" in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return { out: outcome.out, complete: outcome.result.complete, cached: false, cancelled: false };
    } catch (err) {
      return this.failed(req, panel, err);
    } finally {
      link.dispose();
      this.active.delete(cts);
      this.setRunning();
      cts.dispose();
    }
  }

  private async failed(req: AnalysisRequest, panel: LosscapePanel, err: unknown): Promise<AnalysisReport> {
    const out = req.spec.out;
    const partial = await this.partialResult(out);
    if (partial) panel.show(partial, req.title);
    const where = partial ? ` The part computed is in ${path.basename(out)}.` : '';
    if (err instanceof EngineError && err.cancelled) {
      this.log.info(`cancelled "${req.title}"`);
      panel.status(`Cancelled.${partial ? ' Showing the part computed.' : ''}`);
      void vscode.window.showInformationMessage(`Losscape: "${req.title}" was cancelled.${where}`);
      return { out, complete: false, cached: false, cancelled: true };
    }
    const message = errorMessage(err);
    this.log.error(`"${req.title}" failed: ${message}`);
    // A panel that never showed a result would hold only red text: close it, the notification says it all.
    if (!partial && !panel.hasResult) panel.dispose();
    else panel.status(message, 'error');
    const crashed = err instanceof EngineError && !err.isInputError && /engine process/.test(message);
    const entry = req.configuration;
    let text = crashed ? `Losscape: the engine stopped during "${req.title}": ${message}.${where}` : `Losscape: ${message}`;
    let field: string | undefined;
    if (entry && !crashed) {
      const inConfig = engineErrorInConfiguration(message, entry.config, entry.folder.uri.fsPath);
      field = inConfig.field;
      text = `Losscape: ${describeProblem({ name: entry.config.name, index: 0, field, message: inConfig.message })}`;
    }
    const actions = entry ? [OPEN_CONFIGURATION, 'Show Engine Log'] : ['Show Engine Log'];
    void vscode.window.showErrorMessage(text, ...actions).then((choice) => {
      if (choice === OPEN_CONFIGURATION && entry) void openConfiguration(entry.folder, entry.config.name, field);
      else if (choice) this.log.show(true);
    });
    return { out, complete: false, cached: false, cancelled: false, error: message };
  }

  private async partialResult(out: string): Promise<LosscapeResult | undefined> {
    try {
      return await readResultFile(out);
    } catch {
      return undefined;
    }
  }

  dispose(): void {
    this.cancelAll();
  }
}
