import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { InputError } from '../../shared/errors';
import { readInputFile, recordInput, statInput } from './inputFile';

/**
 * Loads a user's JS/TS module from the workspace (a custom loss function). The caller is
 * responsible for trust: the extension only sends a module path from a trusted workspace, and
 * the CLI runs what its user asks. TypeScript (and ES module syntax) is bundled with esbuild
 * when esbuild can be resolved (the CLI, a development checkout); otherwise only CommonJS
 * `.js`/`.cjs` modules load. `@tensorflow/tfjs` (and `-core`, `-node`) inside the module resolve
 * to the engine's own TF.js, so the tensors it makes live on the engine's backend.
 */
const TF_NAMES = new Set(['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-layers']);

interface EsbuildLike {
  buildSync(opts: Record<string, unknown>): unknown;
}

function findEsbuild(from: string): EsbuildLike | null {
  for (const base of [from, __filename, path.join(process.cwd(), 'package.json')]) {
    try {
      return createRequire(base)('esbuild') as EsbuildLike;
    } catch {
      // try the next place
    }
  }
  return null;
}

function compile(file: string): string {
  const source = readInputFile(file, 'loss module').toString('utf8');
  const isPlainCjs = /\.c?js$/.test(file) && !/^\s*(import|export)\s/m.test(source);
  if (isPlainCjs) return source;
  const esbuild = findEsbuild(file);
  if (!esbuild) {
    throw new InputError(file, 'is TypeScript or an ES module, and esbuild is not available to bundle it here; compile it to CommonJS .js, or run it with the losscape CLI from a checkout with its dependencies installed');
  }
  try {
    const r = esbuild.buildSync({
      entryPoints: [file],
      bundle: true,
      write: false,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: [...TF_NAMES],
      logLevel: 'silent',
      metafile: true,
    }) as { outputFiles: { text: string }[]; metafile?: { inputs: Record<string, unknown> } };
    // Every file bundled is an input too: the result writer must not write over one.
    for (const f of Object.keys(r.metafile?.inputs ?? {})) recordInput(path.resolve(f));
    return r.outputFiles[0].text;
  } catch (err) {
    const first = ((err as { errors?: { text: string; location?: { line: number } }[] }).errors ?? [])[0];
    const where = first?.location ? ` (line ${first.location.line})` : '';
    throw new InputError(file, `does not compile${where}: ${first?.text ?? (err as Error).message}`);
  }
}

/** Evaluates the module and returns its exports. */
export function loadUserModule(file: string): Record<string, unknown> {
  const abs = path.resolve(file);
  statInput(file, 'loss module');
  const code = compile(abs);
  const req = createRequire(abs);
  const mod = { exports: {} as Record<string, unknown> };
  type Wrapper = (e: unknown, r: (id: string) => unknown, m: unknown, f: string, d: string) => void;
  let wrapper: Wrapper;
  try {
    wrapper = vm.runInThisContext(`(function (exports, require, module, __filename, __dirname) {${code}\n})`, { filename: abs }) as Wrapper;
  } catch (err) {
    throw new InputError(file, `does not parse as JavaScript: ${String((err as Error)?.message ?? err).split('\n')[0]}`);
  }
  try {
    wrapper(mod.exports, (id: string) => (TF_NAMES.has(id) ? tf : req(id)), mod, abs, path.dirname(abs));
  } catch (err) {
    throw new InputError(file, `threw while loading: ${String((err as Error)?.message ?? err).split('\n')[0]}`);
  }
  // `module.exports = function (yTrue, yPred) {…}`: the module itself is the function.
  const exported: unknown = mod.exports;
  if (typeof exported === 'function') return { default: exported, ...(exported as unknown as Record<string, unknown>) };
  if (exported === null || typeof exported !== 'object') return {};
  return exported as Record<string, unknown>;
}

/** A loss function from a user module: (yTrue, yPred) → per-sample losses [batch] (or their mean). */
export type UserLossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

export function loadUserLoss(file: string, exportName?: string): { fn: UserLossFn; name: string } {
  const exports = loadUserModule(file);
  const candidates = Object.entries(exports).filter(([, v]) => typeof v === 'function');
  let entry: [string, unknown] | undefined;
  if (exportName) entry = candidates.find(([k]) => k === exportName);
  else entry = candidates.find(([k]) => k === 'default') ?? (candidates.length === 1 ? candidates[0] : candidates.find(([k]) => /loss/i.test(k)));
  if (!entry) {
    const names = candidates.map(([k]) => k).join(', ') || 'none';
    throw new InputError(file, exportName ? `exports no function '${exportName}' (functions exported: ${names})` : `exports no loss function to pick (functions exported: ${names}); name one with --loss-export`);
  }
  return { fn: entry[1] as UserLossFn, name: entry[0] };
}
