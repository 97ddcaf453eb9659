/**
 * "Fit Scaling Law" above the header of a CSV whose columns make a runs table (params, tokens,
 * loss; runsTableColumns.ts). CSV files are `csv` documents with a CSV extension installed,
 * plain text otherwise: the selector matches both by file pattern. Only the first line is read.
 */
import * as vscode from 'vscode';
import { COMMANDS } from '../commands/commandIds';
import type { FitScalingArgs } from './fitScalingLaw';
import { detectRunsColumns } from './runsTableColumns';

export const SCALING_LENS_SELECTOR: vscode.DocumentSelector = [
  { language: 'csv', scheme: 'file' },
  { pattern: '**/*.csv', scheme: 'file' },
];

export class ScalingCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly listener = vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('losscape.codeLens')) this.changed.fire();
  });

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!vscode.workspace.getConfiguration('losscape', doc.uri).get<boolean>('codeLens.enabled', true)) return [];
    const columns = detectRunsColumns(doc.lineAt(0).text);
    if (!columns) return [];
    const args: FitScalingArgs = { uri: doc.uri.toString(), columns };
    const roles = [columns.params, columns.tokens, columns.loss].join(' · ');
    return [new vscode.CodeLens(new vscode.Range(0, 0, 0, 0), { title: `Fit Scaling Law (${roles})`, command: COMMANDS.fitScalingLaw.id, arguments: [args], tooltip: 'Fit L(N, D) to these runs: parameters with bootstrap intervals, predictions, the compute-optimal allocation' })];
  }

  dispose(): void {
    this.listener.dispose();
    this.changed.dispose();
  }
}
