import path from 'node:path';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { EngineClient, EngineError } from '../client/engineClient';
import { engineOf } from '../engine/engineChoice';
import { EngineErrorCode, InputError } from '../shared/errors';
import type { Provenance } from '../shared/provenance';
import type { AnalysisSpecInput, BackendPreference, RunOutcome } from '../shared/protocol';

/**
 * Runs one analysis in a forked engine process, printing progress to stderr. Ctrl-C or SIGTERM
 * cancels (the engine writes the partial result, marked cancelled; exit code 130); a second
 * one kills the engine. The engine runs in its own process group so that a terminal's Ctrl-C,
 * which signals the whole foreground group, reaches only this process.
 */
export async function runInEngine(spec: AnalysisSpecInput, backend: BackendPreference): Promise<RunOutcome> {
  // Progress is for people: on a terminal, or when asked (LOSSCAPE_PROGRESS=1). Scripts get
  // the summary on stdout and, on failure, exactly one line on stderr.
  const quiet = !process.stderr.isTTY && process.env.LOSSCAPE_PROGRESS !== '1';
  const client = new EngineClient({
    enginePath: path.join(__dirname, 'engine.js'),
    backend,
    detached: true,
    // Warnings are for people too; internal errors' stacks only when asked (LOSSCAPE_VERBOSE=1),
    // so that a failure is still one line (the error itself, printed by the command).
    onLog: (p) => {
      if (process.env.LOSSCAPE_VERBOSE || (!quiet && p.level === 'warn')) process.stderr.write(`[engine ${p.level}] ${p.message}\n`);
    },
  });
  const cts = new CancellationTokenSource();
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    if (interrupts === 1) {
      if (!quiet) process.stderr.write('\ncancelling… (Ctrl-C again to kill the engine)\n');
      cts.cancel();
    } else client.kill();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const tty = process.stderr.isTTY && !quiet;
  const started = Date.now();
  try {
    const info = await client.info();
    if (cts.token.isCancellationRequested) throw new EngineError('cancelled before the analysis started; nothing was written', EngineErrorCode.cancelled);
    // The TF.js backend is known now; a torch run's (torch version, device, threads) once its
    // worker has loaded the model.
    const torch = usesTorch(spec);
    if (!quiet && !torch) process.stderr.write(`losscape: ${spec.kind} on ${info.backend} (${info.version})\n`);
    let announced = false;
    return await client.run(spec, {
      token: cts.token,
      onModelBackend: ({ backend }) => {
        if (quiet || !torch || announced) return;
        announced = true;
        process.stderr.write(`${tty ? '\r' : ''}losscape: ${spec.kind} on ${describeBackend(backend)}\n`);
      },
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
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    client.dispose();
  }
}

function usesTorch(spec: AnalysisSpecInput): boolean {
  try {
    return engineOf(spec as Parameters<typeof engineOf>[0]) === 'torch';
  } catch {
    return false; // a torch-only option on TF.js: the engine refuses it in one line
  }
}

/** `torch 2.13.0+cpu, python 3.11.2 — cpu, 2 threads, float32` (what `backend` records). */
export function describeBackend(b: Provenance['backend']): string {
  const where = [b.device, b.threads !== undefined ? `${b.threads} thread${b.threads === 1 ? '' : 's'}` : undefined, b.dtype, b.trainMode ? 'train mode' : undefined].filter(Boolean);
  return `${b.version}${where.length ? ` — ${where.join(', ')}` : ''}`;
}

/** One line for stderr, and the exit code: 2 for bad input, 130 for cancelled, 1 otherwise. */
export function describeFailure(err: unknown, out?: string): { message: string; code: number } {
  if (err instanceof EngineError) {
    if (err.cancelled) {
      const message = /before the analysis started/.test(err.message) ? err.message : `cancelled; the partial result is in ${out ?? 'the output file'}`;
      return { message, code: 130 };
    }
    return { message: err.message, code: err.isInputError ? 2 : 1 };
  }
  if (err instanceof InputError) return { message: err.message, code: 2 };
  return { message: (err as Error)?.message ?? String(err), code: 1 };
}
