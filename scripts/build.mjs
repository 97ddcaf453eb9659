// Builds the three bundles of docs/architecture.md (extension host, engine process, webview) and the CLI.
// The extension bundle must never contain TensorFlow.js: it activates in the extension host.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.join(root, 'dist');
mkdirSync(dist, { recursive: true });
const production = process.argv.includes('--production');

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  absWorkingDir: root,
};

// Native TensorFlow bindings resolve at run time from the user's node_modules, never bundled.
const nativeTf = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];

// h5wasm (Keras .h5 / .keras weights) is an ES module that calls createRequire(import.meta.url);
// in a cjs bundle import.meta is empty, so give it the bundle's own URL.
const esmInCjs = {
  define: { 'import.meta.url': '__losscapeImportMetaUrl' },
  banner: { js: 'var __losscapeImportMetaUrl = require("url").pathToFileURL(__filename).href;' },
};

// For the grid worker's bundle only (see below): `@tensorflow/tfjs` itself (not its subpaths)
// becomes src/engine/tfjs/tfjsForWorker.ts, and h5wasm the separate bundle dist/h5wasm.mjs.
const workerTfjs = {
  name: 'worker-tfjs',
  setup(b) {
    b.onResolve({ filter: /^@tensorflow\/tfjs$/ }, () => ({ path: path.join(root, 'src/engine/tfjs/tfjsForWorker.ts') }));
  },
};
const h5wasmChunk = {
  name: 'h5wasm-chunk',
  setup(b) {
    b.onResolve({ filter: /^h5wasm\/node$/ }, () => ({ path: './h5wasm.mjs', external: true }));
  },
};

await Promise.all([
  esbuild.build({
    ...common,
    entryPoints: ['src/extension/extension.ts'].filter((p) => existsSync(path.join(root, p))),
    outfile: 'dist/extension.js',
    // Minified: parse and compile time is most of activation (unminified ~125 ms, minified ~40 ms).
    minify: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', ...nativeTf],
  }),
  esbuild.build({
    ...common,
    entryPoints: ['src/engine/main.ts'],
    outfile: 'dist/engine.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: [...nativeTf],
    ...esmInCjs,
  }),
  // The landscape grid's worker thread (src/engine/tfjs/gridWorkerClient.ts), beside dist/engine.js.
  // The grid waits for its start-up, which was mostly compiling its 10.7 MB bundle: it gets the
  // TF.js umbrella without converter, tf.data and WebGL (src/engine/tfjs/tfjsForWorker.ts), and
  // h5wasm (5.8 MB, needed only for .h5/.keras models) from dist/h5wasm.mjs when first imported.
  // Measured: require() of the bundle 250–330 ms CPU before, 140–150 ms after.
  esbuild.build({
    ...common,
    entryPoints: ['src/engine/tfjs/gridWorker.ts'],
    outfile: 'dist/gridWorker.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: [...nativeTf],
    plugins: [workerTfjs, h5wasmChunk],
    ...esmInCjs,
  }),
  // An ES module, as h5wasm is: its exports (FS among them) are set once its wasm has started,
  // and only an ES module's bindings are live for the importer (a CommonJS one is copied).
  esbuild.build({
    ...common,
    entryPoints: ['h5wasm/node'],
    outfile: 'dist/h5wasm.mjs',
    platform: 'node',
    format: 'esm',
    target: 'node20',
  }),
  esbuild.build({
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: [...nativeTf],
    ...esmInCjs,
  }),
  esbuild.build({
    ...common,
    entryPoints: ['webview/main.ts'],
    outfile: 'dist/webview.js',
    platform: 'browser',
    format: 'iife',
    target: 'chrome114',
    sourcemap: false,
  }),
]);

// The wasm backend loads its binaries from beside the engine bundle (see src/engine/backend.ts).
const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
  copyFileSync(path.join(wasmDir, 'dist', f), path.join(dist, f));
}
console.log('built dist/extension.js, dist/engine.js, dist/gridWorker.js (+ dist/h5wasm.mjs), dist/cli.js, dist/webview.js');
