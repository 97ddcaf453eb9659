/**
 * `.vscode/losscape.json` in each workspace folder: read (bad entries reported, not fatal) and
 * written (a configuration added or replaced by name).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { parseRunConfigurations, withConfiguration, type RunConfiguration } from './runConfig';

export const CONFIG_FILE = path.join('.vscode', 'losscape.json');

export interface FolderConfiguration {
  folder: vscode.WorkspaceFolder;
  config: RunConfiguration;
}

export interface ReadConfigurations {
  entries: FolderConfiguration[];
  /** Unreadable files and skipped entries, one line each. */
  problems: string[];
}

export function configFileOf(folder: vscode.WorkspaceFolder): string {
  return path.join(folder.uri.fsPath, CONFIG_FILE);
}

async function readFolder(folder: vscode.WorkspaceFolder): Promise<{ configurations: RunConfiguration[]; problems: string[]; text?: string }> {
  const file = configFileOf(folder);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return { configurations: [], problems: [] };
  }
  try {
    return { ...parseRunConfigurations(text, file), text };
  } catch (err) {
    return { configurations: [], problems: [err instanceof Error ? err.message : String(err)], text };
  }
}

/** Every configuration of every workspace folder (local folders only). */
export async function readConfigurations(): Promise<ReadConfigurations> {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  const read = await Promise.all(folders.map(async (folder) => ({ folder, ...(await readFolder(folder)) })));
  return {
    entries: read.flatMap((r) => r.configurations.map((config) => ({ folder: r.folder, config }))),
    problems: read.flatMap((r) => r.problems),
  };
}

/** Adds (or replaces, by name) a configuration in the folder's losscape.json; returns the file. */
export async function saveConfiguration(folder: vscode.WorkspaceFolder, config: RunConfiguration): Promise<string> {
  const file = configFileOf(folder);
  const { configurations, problems, text } = await readFolder(folder);
  // Rewriting the file would drop what could not be read: refuse instead.
  if (problems.length) throw new Error(`${problems[0]} (fix it before adding a configuration)`);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, withConfiguration(configurations, config, text));
  return file;
}
