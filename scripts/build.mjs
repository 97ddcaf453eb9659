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
  esbuild.build({
    ...common,
    entryPoints: ['src/engine/tfjs/gridWorker.ts'],
    outfile: 'dist/gridWorker.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: [...nativeTf],
    ...esmInCjs,
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
console.log('built dist/extension.js, dist/engine.js, dist/gridWorker.js, dist/cli.js, dist/webview.js');
