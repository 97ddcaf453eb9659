import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { LosscapeApi } from '../../../src/extension/api';
import { parseResult, type LosscapeResult } from '../../../src/shared/result';

export const EXTENSION_ID = 'losscape.losscape';

export async function activated(): Promise<LosscapeApi> {
  const ext = vscode.extensions.getExtension<LosscapeApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded`);
  return ext.isActive ? ext.exports : ext.activate();
}

export function workspaceRoot(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the suite needs the fixture workspace open');
  return folder.uri.fsPath;
}

export const inWorkspace = (...parts: string[]): string => path.join(workspaceRoot(), ...parts);

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` until it returns a value (not undefined), or fails after `ms`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

export function readResult(file: string): LosscapeResult | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return parseResult(JSON.parse(readFileSync(file, 'utf8')), file);
  } catch {
    return undefined; // being rewritten
  }
}

export function rowsDone(r: LosscapeResult): number {
  if (r.kind !== 'landscape') return 0;
  return r.result.dims === 2 ? r.result.rowsDone : r.result.pointsDone;
}

/** Closes every editor and panel between tests. */
export async function closeAll(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}
