import * as vscode from 'vscode';

/**
 * The Python interpreter for the torch engine, in this order: the interpreter selected in the
 * Python extension (ms-python.python, through its API, when installed), else the
 * `losscape.pythonPath` setting, else `python3`. A run configuration's "python" wins over all.
 */
interface PythonEnvironmentsApi {
  getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined;
  resolveEnvironment(env: { path: string }): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
}

interface PythonExtensionApi {
  environments?: PythonEnvironmentsApi;
  settings?: { getExecutionDetails?(resource?: vscode.Uri): { execCommand?: string[] } };
}

async function fromPythonExtension(resource: vscode.Uri): Promise<string | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (!ext) return undefined;
  try {
    const api = ext.isActive ? ext.exports : await ext.activate();
    const envs = api?.environments;
    if (envs?.getActiveEnvironmentPath) {
      const active = envs.getActiveEnvironmentPath(resource);
      if (active) {
        const resolved = await envs.resolveEnvironment(active);
        return resolved?.executable?.uri?.fsPath ?? active.path;
      }
    }
    return api?.settings?.getExecutionDetails?.(resource)?.execCommand?.[0];
  } catch {
    // A broken Python extension must not stop the analysis: fall back to the setting.
    return undefined;
  }
}

export async function pythonInterpreter(folder: vscode.WorkspaceFolder): Promise<string> {
  const fromExtension = await fromPythonExtension(folder.uri);
  if (fromExtension) return fromExtension;
  const setting = vscode.workspace.getConfiguration('losscape', folder.uri).get<string>('pythonPath', '');
  return setting || 'python3';
}
