import * as vscode from 'vscode';
import { addConfiguration, type ConfigurationPreset } from './addConfiguration';
import { readConfigurations, type FolderConfiguration } from './configStore';
import { RunConfigurationSchema, type RunConfiguration } from './runConfig';

export interface PickOptions {
  title: string;
  /** Which configurations fit the command. */
  filter: (c: RunConfiguration) => boolean;
  /** Used when adding a configuration from here. */
  preset?: ConfigurationPreset;
  log: vscode.LogOutputChannel;
}

interface ConfigItem extends vscode.QuickPickItem {
  entry?: FolderConfiguration;
}

const ADD_LABEL = '$(add) Add Configuration…';

/**
 * A configuration by name or given inline (commands called with an argument: tests, CodeLens),
 * else picked from a QuickPick that also offers to add one.
 */
export async function pickConfiguration(opts: PickOptions, given?: string | RunConfiguration): Promise<FolderConfiguration | undefined> {
  if (given !== undefined && typeof given !== 'string') {
    const parsed = RunConfigurationSchema.safeParse(given);
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!parsed.success || !folder) {
      void vscode.window.showErrorMessage(`Losscape: invalid configuration argument${parsed.success ? ' (no workspace folder)' : `: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`}`);
      return undefined;
    }
    return { folder, config: parsed.data };
  }
  const { entries, problems } = await readConfigurations();
  for (const p of problems) opts.log.warn(p);
  if (problems.length) void vscode.window.showWarningMessage(`Losscape: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more, see the Losscape log)` : ''}`);
  if (typeof given === 'string') {
    const found = entries.find((e) => e.config.name === given);
    if (!found) void vscode.window.showErrorMessage(`Losscape: no run configuration named "${given}" in .vscode/losscape.json.`);
    return found;
  }
  const fitting = entries.filter((e) => opts.filter(e.config));
  const multiRoot = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
  const items: ConfigItem[] = fitting.map((entry) => ({
    label: entry.config.name,
    description: [entry.config.model ?? [entry.config.checkpoints ?? []].flat().join(', '), entry.config.data, (typeof entry.config.loss === 'object' ? entry.config.loss.name : entry.config.loss) ?? entry.config.lossModule].filter(Boolean).join(' · '),
    detail: multiRoot ? entry.folder.name : undefined,
    entry,
  }));
  if (items.length === 0) {
    const choice = await vscode.window.showInformationMessage(`Losscape: no run configuration for ${opts.title} in .vscode/losscape.json.`, 'Add Configuration…');
    return choice ? addConfiguration(opts.preset, opts.log) : undefined;
  }
  items.push({ label: ADD_LABEL, alwaysShow: true });
  const picked = await vscode.window.showQuickPick(items, { title: `Losscape: ${opts.title}`, placeHolder: 'Run configuration', matchOnDescription: true });
  if (!picked) return undefined;
  return picked.entry ?? addConfiguration(opts.preset, opts.log);
}
