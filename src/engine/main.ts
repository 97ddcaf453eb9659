import * as tf from '@tensorflow/tfjs';
import { createMessageConnection, IPCMessageReader, IPCMessageWriter, ResponseError } from 'vscode-jsonrpc/node';
import { CancelledError, EngineErrorCode, InputError } from '../shared/errors';
import {
  AnalysisSpecSchema,
  type AnalysisSpec,
  BackendPreferenceSchema,
  DidLoadModelNotification,
  DidProgressNotification,
  EngineInfoRequest,
  LogNotification,
  RunAnalysisRequest,
  TensorCountRequest,
  type LogParams,
} from '../shared/protocol';
import path from 'node:path';
import { runAnalysis } from './analyses/registry';
import { selectBackend } from './backend';
import { NumericalError } from './linalg/errors';
import { engineInfo, onModelBackend, setEngineInfo } from './runtime';
import { beginInputs } from './loaders/inputFile';
import { lockOutput } from './resultWriter';
import { closeTorchWorkers } from './torch/worker';

/**
 * The engine process: forked by the extension host or the CLI, it speaks JSON-RPC over the
 * IPC channel. One analysis runs at a time (requests queue); progress notifications carry
 * partial results at most about once a second, plus the final one.
 */
const connection = createMessageConnection(new IPCMessageReader(process), new IPCMessageWriter(process));

function log(level: LogParams['level'], message: string): void {
  void connection.sendNotification(LogNotification, { level, message });
}

function toResponseError(err: unknown): ResponseError<void> {
  if (err instanceof CancelledError) return new ResponseError(EngineErrorCode.cancelled, err.message);
  if (err instanceof InputError) return new ResponseError(EngineErrorCode.input, err.message);
  if (err instanceof NumericalError) return new ResponseError(EngineErrorCode.numerical, err.message);
  const e = err as Error;
  // zod errors: say which option is wrong, in one line.
  if (e && e.name === 'ZodError') {
    const issue = (e as unknown as { issues: { path: (string | number)[]; message: string }[] }).issues[0];
    return new ResponseError(EngineErrorCode.input, `option ${issue.path.join('.') || '(spec)'}: ${issue.message}`);
  }
  log('error', e?.stack ?? String(err));
  return new ResponseError(EngineErrorCode.internal, e?.message ?? String(err));
}

const ready = (async () => {
  const pref = BackendPreferenceSchema.safeParse(process.env.LOSSCAPE_BACKEND ?? 'auto');
  const info = await selectBackend(pref.success ? pref.data : 'auto');
  setEngineInfo(info);
  for (const n of info.notes) log('info', n);
  log('info', `backend ${info.backend} (${info.version})`);
  return info;
})();

let queue: Promise<unknown> = Promise.resolve();

/** The input paths a spec names (files found while loading, such as shards, are checked as they are read). */
function namedInputs(spec: AnalysisSpec): string[] {
  const s = spec as Partial<Record<'model' | 'data' | 'lossModule' | 'to', string>> & { checkpoints?: string | string[]; runs?: string[]; fromResults?: string[] };
  const named = [s.model, s.data, s.lossModule, s.to, ...(Array.isArray(s.checkpoints) ? s.checkpoints : [s.checkpoints]), ...(s.runs ?? []), ...(s.fromResults ?? [])];
  return named.filter((p): p is string => typeof p === 'string' && p !== '');
}

connection.onRequest(EngineInfoRequest, async () => {
  await ready;
  return engineInfo();
});

connection.onRequest(TensorCountRequest, async () => {
  await ready;
  const m = tf.memory();
  return { numTensors: m.numTensors, numBytes: m.numBytes };
});

connection.onRequest(RunAnalysisRequest, async (params, token) => {
  await ready;
  const parsed = AnalysisSpecSchema.safeParse(params.spec);
  if (!parsed.success) throw toResponseError(parsed.error);
  const job = queue.then(async () => {
    let lastSent = 0;
    onModelBackend((backend) => void connection.sendNotification(DidLoadModelNotification, { runId: params.runId, backend }));
    try {
      beginInputs();
      const result = await lockOutput(parsed.data.out, namedInputs(parsed.data), () => runAnalysis(params.spec, {
        stop: token,
        log,
        progress(fraction, message, partial) {
          const now = Date.now();
          // Throttle to ~1/s; always send the last one.
          if (now - lastSent < 1000 && fraction < 1) return;
          lastSent = now;
          void connection.sendNotification(DidProgressNotification, { runId: params.runId, fraction, message, partial });
        },
      }));
      return { out: path.resolve(parsed.data.out), result };
    } catch (err) {
      throw toResponseError(err);
    } finally {
      onModelBackend(null);
    }
  });
  queue = job.catch(() => undefined);
  return job;
});

process.on('disconnect', () => {
  closeTorchWorkers();
  process.exit(0);
});
process.on('unhandledRejection', (err) => log('error', `unhandled: ${(err as Error)?.stack ?? String(err)}`));
connection.listen();
