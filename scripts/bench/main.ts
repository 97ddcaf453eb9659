/**
 * `npm run bench`: measures the engine on the demo model, prints a table and writes
 * bench-results/bench.json. Speed is reported as ratios against baselines measured in the
 * same run, never asserted in tests.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { engineV8Flags } from '../../src/client/engineV8Flags';
import { withAllocatorEnv } from '../../src/shared/allocatorEnv';
import { benchLandscape } from './landscape';
import type { Row } from './types';

type Section = { name: string; run: () => Promise<Row[]> };

async function optional(modulePath: string, exportName: string): Promise<(() => Promise<Row[]>) | null> {
  if (!existsSync(modulePath + '.ts')) return null;
  const mod = (await import(modulePath)) as Record<string, () => Promise<Row[]>>;
  return mod[exportName] ?? null;
}

/**
 * The bench runs the analyses in this process: it needs the malloc settings that the CLI and the
 * extension give their engine process (src/shared/allocatorEnv.ts), so it starts itself again
 * with them. The baselines' Python processes inherit them too, so the ratios compare
 * algorithms, not allocators.
 */
function reexecWithAllocatorEnv(): boolean {
  const env = withAllocatorEnv(process.env);
  // And the engine process's V8 flags (src/client/engineV8Flags.ts), which the analyses run under in the product.
  const flags = engineV8Flags().filter((f) => !process.execArgv.includes(f));
  if (env.GLIBC_TUNABLES === process.env.GLIBC_TUNABLES && flags.length === 0) return false;
  const r = spawnSync(process.execPath, [...flags, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env });
  process.exit(r.status ?? 1);
}

async function main(): Promise<void> {
  if (reexecWithAllocatorEnv()) return;
  const samples = Number(process.env.LOSSCAPE_BENCH_SAMPLES ?? 256);
  const sections: Section[] = [{ name: 'landscape', run: () => benchLandscape(samples) }];
  for (const [file, fn, name] of [
    ['./curvature', 'benchCurvature', 'curvature'],
    ['./exactCurvature', 'benchExactCurvature', 'exact curvature (MLP and CNN)'],
    ['./grokking', 'benchGrokking', 'grokking'],
    ['./webview', 'benchWebview', 'webview'],
    ['./activation', 'benchActivation', 'extension'],
    ['./torchEngine', 'benchTorchEngine', 'torch engine vs PyTorch baselines'],
    ['./distributed', 'benchDistributed', 'torch.distributed'],
    ['./scaling', 'benchScaling', 'scaling'],
  ]) {
    const run = await optional(`${__dirname}/${file.slice(2)}`, fn);
    if (run) sections.push({ name, run });
  }
  // LOSSCAPE_BENCH_ONLY=landscape,curvature runs only the sections whose names start with one of
  // those words (to re-measure part of the table; the JSON says which ran).
  const only = (process.env.LOSSCAPE_BENCH_ONLY ?? '').split(',').map((w) => w.trim()).filter(Boolean);
  const chosen = only.length ? sections.filter((s) => only.some((w) => s.name.startsWith(w))) : sections;
  if (only.length && chosen.length === 0) {
    console.error(`bench: LOSSCAPE_BENCH_ONLY=${only.join(',')} matches no section (${sections.map((s) => s.name).join(', ')})`);
    process.exit(2);
  }
  const all: (Row & { section: string })[] = [];
  for (const s of chosen) {
    process.stderr.write(`bench: ${s.name}…\n`);
    for (const r of await s.run()) all.push({ section: s.name, ...r });
  }
  const w = Math.max(...all.map((r) => r.name.length));
  console.log(`\n${'benchmark'.padEnd(w)}  ${'seconds'.padStart(9)}  ${'ratio'.padStart(7)}  note`);
  for (const r of all) {
    console.log(`${r.name.padEnd(w)}  ${r.seconds.toFixed(3).padStart(9)}  ${(r.ratio === undefined ? '' : r.ratio.toFixed(2) + '×').padStart(7)}  ${r.note ?? ''}`);
  }
  mkdirSync('bench-results', { recursive: true });
  const file = 'bench-results/bench.json';
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), sections: chosen.map((s) => s.name), machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, mallocTunables: process.env.GLIBC_TUNABLES ?? 'default', v8Flags: engineV8Flags().filter((f) => process.execArgv.includes(f)) }, rows: all }, null, 1));
  console.log(`\nwrote ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
