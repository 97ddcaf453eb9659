import Module from 'node:module';
import path from 'node:path';
import type { Row } from './types';

/**
 * Extension activation cost outside VS Code: loading dist/extension.js and running activate()
 * against a stub of the `vscode` API that answers every call with a disposable. This measures
 * our own work (module evaluation, wiring); VS Code's own registration costs are not in it —
 * the extension-host suite records the in-host figure (`activationMs` in the extension's API).
 * Each run loads a fresh copy of the bundle; median of 20. Baseline: loading the bundle only.
 */
const API_NAMES = [
  'window', 'workspace', 'commands', 'languages', 'env', 'extensions', 'l10n', 'Uri', 'EventEmitter', 'Disposable',
  'StatusBarAlignment', 'ProgressLocation', 'CodeLens', 'Range', 'Position', 'Selection', 'ViewColumn',
  'CancellationTokenSource', 'CancellationError', 'ThemeColor', 'ThemeIcon', 'ConfigurationTarget', 'FileType',
  'RelativePattern', 'MarkdownString', 'LogLevel', 'TextEdit', 'WorkspaceEdit', 'QuickPickItemKind', 'ColorThemeKind',
];

function stubVscode(): { module: unknown; value: unknown } {
  // Every member is a callable, constructible stub whose members are stubs again.
  const handler: ProxyHandler<() => void> = {
    get(target, prop) {
      if (prop === 'then') return undefined;
      if (prop === 'prototype') return target.prototype;
      if (prop === Symbol.toPrimitive) return () => '';
      if (prop === 'dispose') return () => undefined;
      return value;
    },
    set: () => true,
    defineProperty: () => true,
    apply: () => value,
    construct: () => value as object,
  };
  const value: unknown = new Proxy(function () {}, handler);
  // The module object has real own keys, because the bundle copies them (esbuild's __toESM).
  const module = Object.fromEntries(API_NAMES.map((k) => [k, value]));
  return { module, value };
}

export async function benchActivation(): Promise<Row[]> {
  const bundle = path.resolve('dist/extension.js');
  const { module: vscode, value: stub } = stubVscode();
  const loadAny = Module as unknown as { _load: (req: string, parent: unknown, isMain: boolean) => unknown };
  const original = loadAny._load;
  loadAny._load = (req, parent, isMain) => (req === 'vscode' ? vscode : original(req, parent, isMain));
  const load: number[] = [];
  const activate: number[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      delete require.cache[bundle];
      const t0 = performance.now();
      const ext = require(bundle) as { activate(ctx: unknown): unknown; deactivate(): void };
      const t1 = performance.now();
      ext.activate({ subscriptions: [], extensionUri: stub, extensionPath: path.resolve('.'), globalState: stub, workspaceState: stub });
      const t2 = performance.now();
      ext.deactivate();
      load.push(t1 - t0);
      activate.push(t2 - t0);
    }
  } finally {
    loadAny._load = original;
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] / 1000;
  const l = median(load);
  const a = median(activate);
  return [
    { name: 'extension: load dist/extension.js', seconds: l, note: 'median of 20 fresh loads' },
    { name: 'extension: load + activate() (stub vscode API)', seconds: a, ratio: a / l, note: `target < 0.100 s; baseline: the load row` },
  ];
}
