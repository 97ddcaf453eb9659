import path from 'node:path';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { EngineClient, EngineError } from '../client/engineClient';
import type { AnalysisSpecInput, BackendPreference, RunOutcome } from '../shared/protocol';

/**
 * Runs one analysis in a forked engine process, printing progress to stderr. Ctrl-C cancels
 * (the engine writes the partial result); a second Ctrl-C kills the engine.
 */
export async function runInEngine(spec: AnalysisSpecInput, backend: BackendPreference): Promise<RunOutcome> {
  // Progress is for people: on a terminal, or when asked (LOSSCAPE_PROGRESS=1). Scripts get
  // the summary on stdout and, on failure, exactly one line on stderr.
  const quiet = !process.stderr.isTTY && process.env.LOSSCAPE_PROGRESS !== '1';
  const client = new EngineClient({
    enginePath: path.join(__dirname, 'engine.js'),
    backend,
    onLog: (p) => {
      if (p.level !== 'info' || process.env.LOSSCAPE_VERBOSE) process.stderr.write(`[engine ${p.level}] ${p.message}\n`);
    },
  });
  const cts = new CancellationTokenSource();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write('\ncancelling… (Ctrl-C again to kill the engine)\n');
      cts.cancel();
    } else client.kill();
  };
  process.on('SIGINT', onSigint);
  const tty = process.stderr.isTTY && !quiet;
  const started = Date.now();
  try {
    const info = await client.info();
    if (!quiet) process.stderr.write(`losscape: ${spec.kind} on ${info.backend} (${info.version})\n`);
    return await client.run(spec, {
      token: cts.token,
      onProgress: (p) => {
        if (quiet) return;
        const pct = (100 * p.fraction).toFixed(0).padStart(3);
        const elapsed = (Date.now() - started) / 1000;
        const eta = p.fraction > 0 ? (elapsed * (1 - p.fraction)) / p.fraction : NaN;
        const line = `${pct}% ${p.message}${Number.isFinite(eta) ? ` · ~${eta.toFixed(0)} s left` : ''}`;
        process.stderr.write(tty ? `\r${line.padEnd(70)}` : `${line}\n`);
      },
    });
  } finally {
    if (tty) process.stderr.write('\n');
    process.off('SIGINT', onSigint);
    client.dispose();
  }
}

/** One line for stderr, and the exit code: 2 for bad input, 130 for cancelled, 1 otherwise. */
export function describeFailure(err: unknown, out?: string): { message: string; code: number } {
  if (err instanceof EngineError) {
    if (err.cancelled) return { message: `cancelled; the partial result is in ${out ?? 'the output file'}`, code: 130 };
    return { message: err.message, code: err.isInputError ? 2 : 1 };
  }
  return { message: (err as Error)?.message ?? String(err), code: 1 };
}
