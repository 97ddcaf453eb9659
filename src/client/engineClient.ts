import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  CancellationTokenSource,
  createMessageConnection,
  IPCMessageReader,
  IPCMessageWriter,
  ResponseError,
  type CancellationToken,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import { withAllocatorEnv } from '../shared/allocatorEnv';
import { engineV8Flags } from './engineV8Flags';
import { EngineErrorCode } from '../shared/errors';
import {
  DidLoadModelNotification,
  DidProgressNotification,
  EngineInfoRequest,
  LogNotification,
  RunAnalysisRequest,
  TensorCountRequest,
  type AnalysisSpecInput,
  type BackendPreference,
  type EngineInfo,
  type LogParams,
  type ModelBackendParams,
  type ProgressParams,
  type RunOutcome,
  type TensorCount,
} from '../shared/protocol';

/**
 * The client side of the engine process, shared by the CLI and the extension host (which
 * therefore never loads TensorFlow.js). The process is forked lazily on first use and again
 * after a crash; a crash rejects the requests in flight with a clear error instead of taking
 * the caller down.
 */
export interface EngineClientOptions {
  /** Path of dist/engine.js. */
  enginePath: string;
  backend?: BackendPreference;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Extra Node flags for the child, e.g. a heap limit. */
  execArgv?: string[];
  onLog?: (p: LogParams) => void;
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
  /**
   * Start the engine in a process group of its own, so that a signal to the caller's group
   * (Ctrl-C in a terminal sends SIGINT to every process of the foreground group) reaches only
   * the caller, which then cancels the run and lets the engine write the partial result. The
   * engine still exits when the caller goes away (its IPC channel closes).
   */
  detached?: boolean;
}

export class EngineError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
    this.name = 'EngineError';
  }
  get cancelled(): boolean {
    return this.code === EngineErrorCode.cancelled;
  }
  get isInputError(): boolean {
    return this.code === EngineErrorCode.input;
  }
}

interface Live {
  child: ChildProcess;
  connection: MessageConnection;
  /** Rejects every request in flight when the process dies. */
  died: Promise<never>;
  deathReason?: EngineError;
}

export class EngineClient {
  private live: Live | null = null;
  private runCounter = 0;
  private readonly progressHandlers = new Map<string, (p: ProgressParams) => void>();
  private readonly modelHandlers = new Map<string, (p: ModelBackendParams) => void>();
  private disposed = false;

  constructor(private readonly opts: EngineClientOptions) {}

  /** The running child's pid, if any (tests use it to simulate crashes). */
  get pid(): number | undefined {
    return this.live?.child.pid;
  }

  private start(): Live {
    if (this.disposed) throw new Error('engine client disposed');
    if (this.live) return this.live;
    const child = fork(this.opts.enginePath, [], {
      cwd: this.opts.cwd,
      env: withAllocatorEnv({ ...process.env, ...this.opts.env, ...(this.opts.backend ? { LOSSCAPE_BACKEND: this.opts.backend } : {}) }),
      execArgv: [...engineV8Flags(), ...(this.opts.execArgv ?? [])],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
      detached: this.opts.detached ?? false,
    });
    const connection = createMessageConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
    connection.onNotification(LogNotification, (p) => this.opts.onLog?.(p));
    connection.onNotification(DidProgressNotification, (p) => this.progressHandlers.get(p.runId)?.(p));
    connection.onNotification(DidLoadModelNotification, (p) => this.modelHandlers.get(p.runId)?.(p));
    child.stderr?.on('data', (b: Buffer) => this.opts.onLog?.({ level: 'warn', message: b.toString().trimEnd() }));
    child.stdout?.on('data', (b: Buffer) => this.opts.onLog?.({ level: 'info', message: b.toString().trimEnd() }));
    let markDead: (e: Error) => void = () => undefined;
    const died = new Promise<never>((_, reject) => (markDead = reject));
    died.catch(() => undefined);
    const live: Live = { child, connection, died };
    const onGone = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (this.live === live) this.live = null;
      const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
      const oom = code === 134 || signal === 'SIGABRT' ? ' (out of memory? try --samples or a smaller --batch-size)' : '';
      live.deathReason = new EngineError(`the Losscape engine process ${how}${oom}; it will be restarted on the next request`, EngineErrorCode.internal);
      markDead(live.deathReason);
      connection.dispose();
      if (!this.disposed) this.opts.onExit?.(code, signal);
    };
    child.once('exit', onGone);
    child.once('error', (err) => {
      this.opts.onLog?.({ level: 'error', message: `engine process error: ${err.message}` });
    });
    connection.listen();
    this.live = live;
    return live;
  }

  private async request<R>(call: (c: MessageConnection) => Promise<R>): Promise<R> {
    const live = this.start();
    try {
      return await Promise.race([call(live.connection), live.died]);
    } catch (err) {
      // The connection's own "disposed" rejection can win the race; the death reason is clearer.
      if (live.deathReason) throw live.deathReason;
      if (err instanceof ResponseError) throw new EngineError(err.message, err.code);
      throw err;
    }
  }

  info(): Promise<EngineInfo> {
    return this.request((c) => c.sendRequest(EngineInfoRequest));
  }

  tensorCount(): Promise<TensorCount> {
    return this.request((c) => c.sendRequest(TensorCountRequest));
  }

  /**
   * Runs an analysis. Progress (with partial results) goes to `onProgress`, the loaded model's
   * backend where only loading tells it (torch: version, device, threads) to `onModelBackend`; cancelling the
   * token stops the engine between evaluations, and the promise rejects with an EngineError
   * whose `cancelled` is true — the partial result file is on disk by then.
   */
  async run(
    spec: AnalysisSpecInput,
    options: { onProgress?: (p: ProgressParams) => void; onModelBackend?: (p: ModelBackendParams) => void; token?: CancellationToken } = {},
  ): Promise<RunOutcome> {
    const runId = `run-${process.pid}-${++this.runCounter}`;
    if (options.onProgress) this.progressHandlers.set(runId, options.onProgress);
    if (options.onModelBackend) this.modelHandlers.set(runId, options.onModelBackend);
    const enginePid = this.start().child.pid;
    try {
      return await this.request((c) => c.sendRequest(RunAnalysisRequest, { runId, spec }, options.token ?? new CancellationTokenSource().token));
    } catch (err) {
      if (err instanceof EngineError && err.code === EngineErrorCode.internal) {
        const out = path.resolve(this.opts.cwd ?? '.', spec.out);
        markInterrupted(out, err.message);
        if (enginePid !== undefined && this.live?.child.pid !== enginePid) removeLeftovers(out, enginePid);
      }
      throw err;
    } finally {
      this.progressHandlers.delete(runId);
      this.modelHandlers.delete(runId);
    }
  }

  /** Kills the engine process (it restarts on the next request unless disposed). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.live?.child.kill(signal);
  }

  dispose(): void {
    this.disposed = true;
    const live = this.live;
    this.live = null;
    if (live) {
      live.connection.dispose();
      live.child.kill();
      // A hard kill if it ignores the polite one (e.g. stuck in a long native op).
      setTimeout(() => live.child.exitCode === null && live.child.kill('SIGKILL'), 2000).unref();
    }
  }
}

/**
 * A killed engine cannot clean up after itself: its lock on the result and its temporaries
 * (named with its pid) are removed here. Sidecars it left are removed by the next run on the
 * same path, which can tell them from the ones the result file names.
 */
function removeLeftovers(out: string, pid: number): void {
  const dir = path.dirname(out);
  const base = path.basename(out);
  const stem = base.endsWith('.json') ? base.slice(0, -'.json'.length) : base;
  try {
    if (readFileSync(`${out}.lock`, 'utf8').trim() === String(pid)) unlinkSync(`${out}.lock`);
  } catch {
    // no lock, or another run's
  }
  try {
    for (const name of readdirSync(dir)) {
      if ((name.startsWith(`${base}.tmp-${pid}`) || name.startsWith(`${stem}.`)) && new RegExp(`\\.tmp-${pid}(-\\d+)?$`).test(name)) unlinkSync(path.join(dir, name));
    }
  } catch {
    // the folder is gone or unreadable: nothing to clean
  }
}

/**
 * After a crash the engine cannot say why its last result stopped: record it in the partial
 * file (still valid, `complete: false`) so whoever opens it knows.
 */
function markInterrupted(out: string, reason: string): void {
  try {
    if (!existsSync(out)) return;
    const json = JSON.parse(readFileSync(out, 'utf8')) as { complete?: boolean; status?: string };
    if (json.complete !== false || (json.status && json.status !== 'running')) return;
    json.status = `interrupted: ${reason}`;
    const tmp = `${out}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(json, null, 1));
    renameSync(tmp, out);
  } catch {
    // The partial file stays as the engine left it: valid, marked incomplete.
  }
}
