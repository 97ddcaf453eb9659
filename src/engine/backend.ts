import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { BackendName, BackendPreference, EngineInfo } from '../shared/protocol';
import { installGradientPatches } from './tfjs/gradientPatches';
import { registerWasmGradientKernels } from './tfjs/wasmGradientKernels';
import { patchWasmBatchMatMul } from './wasmKernels';

/**
 * Backend choice: native TensorFlow (GPU, then CPU) when its binding resolves at run time,
 * else the wasm backend, else pure-JS cpu. tfjs-core keeps its engine and kernel registry in
 * the global namespace, so a tfjs-node loaded from the user's node_modules registers its
 * 'tensorflow' backend into the same engine this bundle's TF.js uses.
 */

const NATIVE: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

/** Where a native binding may be installed: beside the engine, the working directory, or LOSSCAPE_NODE_PATH. */
function nativeRequire(): NodeRequire {
  const base = path.join(process.env.LOSSCAPE_NODE_PATH ?? process.cwd(), 'package.json');
  return createRequire(base);
}

function tryNative(kind: 'tensorflow-gpu' | 'tensorflow', notes: string[]): string | null {
  const pkg = NATIVE[kind];
  for (const req of [nativeRequire(), createRequire(__filename)]) {
    try {
      const mod = req(pkg) as { version?: { 'tfjs-node'?: string } };
      return mod.version?.['tfjs-node'] ?? 'unknown';
    } catch (err) {
      const msg = (err as Error).message.split('\n')[0];
      if (!/Cannot find module/.test(msg)) {
        notes.push(`${pkg} is installed but failed to load: ${msg}`);
        return null;
      }
    }
  }
  notes.push(`${pkg} is not installed`);
  return null;
}

async function useWasm(notes: string[]): Promise<boolean> {
  try {
    // The build copies the .wasm binaries beside dist/engine.js; in tests (tsx, unbundled)
    // the package finds its own copies.
    if (['engine.js', 'cli.js', 'gridWorker.js'].includes(path.basename(__filename))) {
      setWasmPaths(path.dirname(__filename) + path.sep);
    }
    patchWasmBatchMatMul();
    registerWasmGradientKernels();
    return await tf.setBackend('wasm');
  } catch (err) {
    notes.push(`wasm backend failed: ${(err as Error).message}`);
    return false;
  }
}

export async function selectBackend(preference: BackendPreference): Promise<EngineInfo> {
  const notes: string[] = [];
  // Second-order links (conv/pooling backprops, input-based activations) for every backend: the
  // exact Hessian and the Gauss–Newton/Fisher dual trick differentiate gradients.
  const patches = installGradientPatches();
  if (!patches.installed && patches.reason) notes.push(patches.reason);
  const order: BackendName[] =
    preference === 'auto' ? ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] : [preference, 'wasm', 'cpu'];
  for (const name of order) {
    if (name === 'tensorflow-gpu' || name === 'tensorflow') {
      const version = tryNative(name, notes);
      if (version && (await tf.setBackend('tensorflow'))) {
        await tf.ready();
        return { backend: name, version: `tfjs ${tf.version.tfjs}, tfjs-node ${version}`, notes, pid: process.pid };
      }
    } else if (name === 'wasm') {
      if (await useWasm(notes)) {
        await tf.ready();
        return { backend: 'wasm', version: `tfjs ${tf.version.tfjs} (wasm)`, notes, pid: process.pid };
      }
    } else {
      await tf.setBackend('cpu');
      await tf.ready();
      return { backend: 'cpu', version: `tfjs ${tf.version.tfjs} (cpu)`, notes, pid: process.pid };
    }
  }
  throw new Error('no TensorFlow.js backend could be initialised');
}
