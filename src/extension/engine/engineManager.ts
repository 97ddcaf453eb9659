/**
 * The one engine process of the extension host, wrapped: forked lazily on the first analysis
 * (never at activation), its log in the "Losscape" output channel, its state (backend, whether
 * an analysis runs) for the status bar, restarted after a crash (by EngineClient, on the next
 * request) and when the backend setting changes, killed on deactivate.
 */
import * as vscode from 'vscode';
import { EngineClient } from '../../client/engineClient';
import type { AnalysisSpecInput, BackendPreference, EngineInfo, ProgressParams, RunOutcome } from '../../shared/protocol';
import { errorMessage } from '../util/disposables';

export interface EngineManagerOptions {
  /** dist/engine.js */
  enginePath: string;
  log: vscode.LogOutputChannel;
  backend: () => BackendPreference;
  cwd: () => string | undefined;
}

export class EngineManager implements vscode.Disposable {
  private client: EngineClient | undefined;
  private engineInfo: EngineInfo | undefined;
  private running = 0;
  private restartWhenIdle = false;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the backend becomes known or an analysis starts or ends. */
  readonly onDidChangeState = this.changed.event;

  constructor(private readonly opts: EngineManagerOptions) {}

  get isRunning(): boolean {
    return this.running > 0;
  }

  /** The backend in use once the engine reported it, else the preference. */
  get backendLabel(): string {
    return this.engineInfo?.backend ?? this.opts.backend();
  }

  get info(): EngineInfo | undefined {
    return this.engineInfo;
  }

  get pid(): number | undefined {
    return this.client?.pid;
  }

  private ensureClient(): EngineClient {
    if (this.client) return this.client;
    const backend = this.opts.backend();
    const log = this.opts.log;
    log.info(`starting the engine process (backend preference: ${backend})`);
    const client = new EngineClient({
      enginePath: this.opts.enginePath,
      backend,
      cwd: this.opts.cwd(),
      onLog: (p) => {
        if (!p.message) return;
        if (p.level === 'error') log.error(p.message);
        else if (p.level === 'warn') log.warn(p.message);
        else log.info(p.message);
      },
      onExit: (code, signal) => {
        log.warn(`the engine process ${signal ? `was killed by ${signal}` : `exited with code ${code}`}; it restarts on the next analysis`);
        this.engineInfo = undefined;
        this.changed.fire();
      },
    });
    this.client = client;
    return client;
  }

  private refreshInfo(client: EngineClient): void {
    client.info().then(
      (info) => {
        if (this.client !== client) return;
        this.engineInfo = info;
        this.opts.log.info(`engine pid ${info.pid}: backend ${info.backend} (${info.version})`);
        this.changed.fire();
      },
      (err: unknown) => this.opts.log.warn(`engine info: ${errorMessage(err)}`),
    );
  }

  /** Runs an analysis in the engine; rejects with an EngineError (cancelled, input, crash). */
  async run(spec: AnalysisSpecInput, onProgress: (p: ProgressParams) => void, token: vscode.CancellationToken): Promise<RunOutcome> {
    const client = this.ensureClient();
    if (!this.engineInfo) this.refreshInfo(client);
    this.running++;
    this.changed.fire();
    try {
      return await client.run(spec, { onProgress, token });
    } finally {
      this.running--;
      this.changed.fire();
      if (this.running === 0 && this.restartWhenIdle) this.stop();
    }
  }

  /** The backend preference changed: the next analysis starts a fresh engine. */
  restart(): void {
    if (this.running > 0) this.restartWhenIdle = true;
    else this.stop();
  }

  /** Kills the engine process (tests use it to simulate a crash through `pid`). */
  private stop(): void {
    this.restartWhenIdle = false;
    this.client?.dispose();
    this.client = undefined;
    this.engineInfo = undefined;
    this.changed.fire();
  }

  dispose(): void {
    this.client?.dispose();
    this.client = undefined;
    this.changed.dispose();
  }
}
