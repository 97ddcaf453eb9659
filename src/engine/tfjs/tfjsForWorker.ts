/**
 * What the grid worker's bundle (dist/gridWorker.js) gets for `@tensorflow/tfjs` (an esbuild
 * alias, scripts/build.mjs): the umbrella package without the parts no engine path uses — the
 * graph-model converter, tf.data and the WebGL backend, 40 % of its code. The worker starts
 * while the grid waits for it, and its start-up was mostly compiling its bundle (~200 ms of
 * ~330 ms CPU). The same modules, registrations and `version` as the umbrella
 * (@tensorflow/tfjs/dist/index.js), so the engine's patches and kernels apply unchanged.
 */
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import { version_core } from '@tensorflow/tfjs-core';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { version_layers } from '@tensorflow/tfjs-layers';
import { version as tfjsVersion } from '@tensorflow/tfjs/dist/version';

export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
export * from '@tensorflow/tfjs-backend-cpu';

export const version = {
  'tfjs-core': version_core,
  'tfjs-backend-cpu': version_cpu,
  'tfjs-layers': version_layers,
  tfjs: tfjsVersion,
};
