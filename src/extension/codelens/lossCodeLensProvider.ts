/**
 * "Loss landscape · Sharpness · Hessian · Compare losses" above loss definitions. `provide` only runs the pure
 * detector (cached per document version) and returns lenses without commands; `resolve` fills
 * in the command for the visible ones, honouring the token. Lenses refresh when the
 * `losscape.codeLens.enabled` setting changes.
 */
import * as vscode from 'vscode';
import { LENS_COMMAND } from '../commands/commandIds';
import type { RunConfiguration } from '../config/runConfig';
import { lensRunnable } from './lensLoss';
import { detectLosses, type LossSite } from './lossDetector';

/** 'explain': the one lens of a loss that cannot run (a library loss the engines lack…): it says why. */
export type LensAction = 'landscape' | 'sharpness' | 'hessian' | 'compare' | 'explain';

export interface LensCommandArgs {
  action: LensAction;
  uri: string;
  languageId: string;
  site: LossSite;
  /** A run configuration (its name, or one inline) to use instead of asking (programmatic callers, tests). */
  configuration?: string | RunConfiguration;
  /** Compare losses: the losses to compare, instead of asking (programmatic callers, tests). */
  losses?: string;
}

const TITLES: Record<LensAction, string> = {
  landscape: 'Loss landscape',
  sharpness: 'Sharpness',
  hessian: 'Hessian',
  compare: 'Compare losses',
  explain: 'Losscape: cannot run this loss',
};

class LossLens extends vscode.CodeLens {
  constructor(
    range: vscode.Range,
    readonly args: LensCommandArgs,
  ) {
    super(range);
  }
}

export const LENS_SELECTOR: vscode.DocumentSelector = ['python', 'typescript', 'javascript', 'typescriptreact', 'javascriptreact'].map((language) => ({
  language,
  scheme: 'file',
}));

function describe(site: LossSite): string {
  if (site.loss !== 'custom') return `${site.symbol} → engine loss ${site.loss}${site.fromLogits ? ' (from logits)' : ''}`;
  if (site.library) return `${site.library}: not one of the engine's losses`;
  return `${site.symbol}: a custom loss`;
}

export class LossCodeLensProvider implements vscode.CodeLensProvider<LossLens>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly cache = new Map<string, { version: number; sites: LossSite[] }>();
  private readonly listeners: vscode.Disposable[];

  constructor() {
    this.listeners = [
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('losscape.codeLens')) this.changed.fire();
      }),
      vscode.workspace.onDidCloseTextDocument((d) => this.cache.delete(d.uri.toString())),
    ];
  }

  private sites(doc: vscode.TextDocument): LossSite[] {
    const key = doc.uri.toString();
    const hit = this.cache.get(key);
    if (hit && hit.version === doc.version) return hit.sites;
    const sites = detectLosses(doc.getText(), doc.languageId);
    this.cache.set(key, { version: doc.version, sites });
    return sites;
  }

  provideCodeLenses(doc: vscode.TextDocument, token: vscode.CancellationToken): LossLens[] {
    if (!vscode.workspace.getConfiguration('losscape', doc.uri).get<boolean>('codeLens.enabled', true)) return [];
    if (token.isCancellationRequested) return [];
    // One lens row per definition: the three actions of a loss that runs, one lens saying why for one that cannot.
    const seen = new Set<string>();
    return this.sites(doc).flatMap((site) => {
      const key = `${site.line}:${site.symbol}`;
      if (seen.has(key)) return [];
      seen.add(key);
      const range = new vscode.Range(site.line, site.start, site.line, site.end);
      const actions: readonly LensAction[] = lensRunnable(site, doc.languageId) ? ['landscape', 'sharpness', 'hessian', 'compare'] : ['explain'];
      return actions.map((action) => new LossLens(range, { action, uri: doc.uri.toString(), languageId: doc.languageId, site }));
    });
  }

  resolveCodeLens(lens: LossLens, token: vscode.CancellationToken): LossLens | undefined {
    if (token.isCancellationRequested) return undefined;
    const explain = lens.args.action === 'explain';
    lens.command = {
      title: explain ? `Losscape: ${lens.args.site.library ?? lens.args.site.symbol} is not an engine loss` : TITLES[lens.args.action],
      tooltip: explain ? `Losscape: why ${describe(lens.args.site)} cannot run, and what can` : `Losscape: ${TITLES[lens.args.action].toLowerCase()} of ${describe(lens.args.site)}`,
      command: LENS_COMMAND,
      arguments: [lens.args],
    };
    return lens;
  }

  dispose(): void {
    for (const l of this.listeners) l.dispose();
    this.changed.dispose();
    this.cache.clear();
  }
}
