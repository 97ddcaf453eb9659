/**
 * V8 flags for the engine process (src/client/engineClient.ts forks it with them). Node 20's V8
 * (11.3) kills the engine with SIGSEGV inside TurboFan-compiled code on long wasm runs of many
 * small batches: a 151×151 landscape of the e2e fixture's tiny model with --batch-size 1 crashed
 * 5 of 10 runs of dist/engine.js (none of 4 of the unbundled source, none of 12 with allocation
 * folding off, none of 4 with TurboFan off; turning off inlining, escape analysis or load
 * elimination did not help). Allocation folding merges neighbouring allocations of optimised code
 * into one; without it the demo's 41×41 landscape took 1.47–1.55 s on one thread and 0.89–0.91 s
 * on two against 1.51–1.53 s and 0.86–0.87 s with it (interleaved bench runs). Pinned to V8 11:
 * another V8 gets no flag, and test/unit/engineV8Flags.test.ts fails when Node's V8 changes, so
 * the crash is measured again there. LOSSCAPE_ENGINE_V8_FLAGS=none turns the flag off.
 */
export function engineV8Flags(v8: string = process.versions.v8, env: Record<string, string | undefined> = process.env): string[] {
  if (env.LOSSCAPE_ENGINE_V8_FLAGS === 'none') return [];
  return /^11\./.test(v8) ? ['--no-turbo-allocation-folding'] : [];
}
