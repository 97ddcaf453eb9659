import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import path from 'node:path';
import { withAllocatorEnv } from '../../shared/allocatorEnv';
import { CancelledError, InputError } from '../../shared/errors';
import type { StopSignal } from '../linalg/operator';
import { chosenTransport, FrameSlots, childSlotFds, uninitialisedBytes, type Transport } from './frameSlots';
import { encodeMessage, MessageReader, type Frame } from './framing';

/**
 * One Python worker process (python -m losscape_torch) and the requests to it
 * (docs/torch-worker-protocol.md). Requests are answered in order, one at a time; a request
 * watches the analysis's stop signal and sends `cancel` when it is raised. The worker dying
 * fails the pending requests with one line (exit code or signal, the last stderr lines); the
 * next `torchWorker()` call starts a new one.
 */
export interface WorkerReply {
  result: Record<string, unknown>;
  frames: Frame[];
  /** Seconds the worker itself spent on the request (round trip − this = the process boundary). */
  elapsed?: number;
  /**
   * With RequestOptions.scratchReply: gives the frames' memory back for a later reply. The
   * frames must not be used after it; without a call their memory is simply not reused.
   */
  release?: () => void;
}

export interface RequestOptions {
  /**
   * The reply's frames that come through a frame slot are read into buffers reused from earlier
   * such replies (given back by WorkerReply.release) instead of fresh memory: a fresh 4 MB array
   * cost Node ~3 ms of page faults at P = 1M, more than reading the slot itself. For callers that
   * copy the frames out at once (the curvature products, converted to float64).
   */
  scratchReply?: boolean;
}

/** Reply buffer sets kept for reuse by one worker (one set per reply in flight). */
const SCRATCH_SETS = 4;

/** The worker died or misbehaved: not the user's input, but one clear line all the same. */
export class WorkerDiedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerDiedError';
  }
}

interface Pending {
  method: string;
  /** The frame slot lent to the request, given back with its reply. */
  slot?: number;
  /** The reply's slot frames go into reused buffers (RequestOptions.scratchReply), these once taken. */
  scratchReply?: boolean;
  scratch?: Uint8Array[];
  resolve(r: WorkerReply): void;
  reject(e: Error): void;
}

const STDERR_LINES = 8;

/** An InputError whose message is the worker's line as is (it names the file itself). */
function workerInputError(source: string, message: string): InputError {
  const e = new InputError(source, message);
  e.message = message;
  return e;
}

/** The folder holding the `losscape_torch` package: beside dist/ in the extension, python/ in the repository. */
export function workerPackageRoot(): string {
  const env = process.env.LOSSCAPE_TORCH_WORKER_PATH;
  if (env) return env;
  for (let dir = __dirname, i = 0; i < 6; i++, dir = path.dirname(dir)) {
    const cand = path.join(dir, 'python');
    if (fs.existsSync(path.join(cand, 'losscape_torch', '__main__.py'))) return cand;
  }
  throw new Error(`the torch worker (python/losscape_torch) is not found above ${__dirname}; set LOSSCAPE_TORCH_WORKER_PATH`);
}

/** The interpreter: --python, else LOSSCAPE_PYTHON, else python3. */
export function resolvePython(option?: string): string {
  return option || process.env.LOSSCAPE_PYTHON || 'python3';
}

export class TorchWorker {
  private readonly child: ChildProcess;
  /** Shared-memory files for vectors (frameSlots.ts), or null: everything goes by pipe. */
  private readonly slots: FrameSlots | null;
  private readonly reader: MessageReader;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stderrTail: string[] = [];
  private partialLine = '';
  private deadReason: string | null = null;
  /** Messages the worker logged (warnings about weights etc.), for the analysis log. */
  onLog: (level: 'info' | 'warn', message: string) => void = () => undefined;
  hello: Record<string, unknown> | null = null;

  constructor(
    readonly python: string,
    /** Extra worker arguments: a torch.distributed launch (launch.ts), or none. */
    readonly args: readonly string[] = [],
    /** How vectors cross: frame slots where the machine has them (frameSlots.ts), or the pipe. */
    transport: Transport = chosenTransport(),
  ) {
    const env = withAllocatorEnv({ ...process.env, PYTHONPATH: [workerPackageRoot(), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter), PYTHONUNBUFFERED: '1' });
    let slots: FrameSlots | null = null;
    if (transport === 'slots') {
      try {
        slots = new FrameSlots();
      } catch {
        slots = null; // /dev/shm refused: the pipe carries everything
      }
    }
    this.slots = slots;
    this.reader = new MessageReader(slots ? (d, header, i) => slots.readFrame(d, (size) => this.scratchFor(header, i, size)) : undefined);
    const slotArgs = slots ? ['--slot-fds', childSlotFds(slots.fds.length).join(',')] : [];
    // The child gets its own copies of the slot fds as fds 3, 4, …
    this.child = spawn(python, ['-u', '-m', 'losscape_torch', ...slotArgs, ...args], { stdio: ['pipe', 'pipe', 'pipe', ...(slots?.fds ?? [])], env });
    this.child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    this.child.stderr!.on('data', (chunk: Buffer) => this.onStderr(chunk));
    this.child.stdin!.on('error', () => undefined);
    this.child.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' ? `cannot start the Python interpreter '${python}': not found; pass --python PATH (or set LOSSCAPE_PYTHON) to one with torch installed` : `cannot start '${python}': ${err.message}`;
      this.die(why, true);
    });
    this.child.on('exit', (code, signal) => {
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const tail = this.stderrTail.concat(this.partialLine ? [this.partialLine] : []).filter((l) => l.trim()).slice(-3).join(' | ');
      this.die(`the torch worker (${python}) ${how}${tail ? `; its last output: ${tail}` : ''}`, false);
    });
  }

  /** An idle worker must not keep the engine or CLI process alive; a busy one must. */
  setRef(on: boolean): void {
    const streams = [this.child.stdin, this.child.stdout, this.child.stderr] as unknown as ({ ref?(): void; unref?(): void } | null)[];
    if (on) {
      this.child.ref();
      for (const st of streams) st?.ref?.();
    } else {
      this.child.unref();
      for (const st of streams) st?.unref?.();
    }
  }

  get alive(): boolean {
    return this.deadReason === null;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private die(reason: string, startFailure: boolean): void {
    if (this.deadReason !== null) return;
    this.deadReason = reason;
    for (const [, p] of this.pending) p.reject(startFailure ? workerInputError('--python', reason) : new WorkerDiedError(`${reason} (while computing ${p.method})`));
    this.pending.clear();
    this.slots?.close();
  }

  private onStderr(chunk: Buffer): void {
    const text = this.partialLine + chunk.toString('utf8');
    const lines = text.split('\n');
    this.partialLine = lines.pop() ?? '';
    for (const l of lines) {
      process.stderr.write(`[torch] ${l}\n`);
      this.stderrTail.push(l);
    }
    if (this.stderrTail.length > STDERR_LINES) this.stderrTail = this.stderrTail.slice(-STDERR_LINES);
  }

  private onData(chunk: Buffer): void {
    let msgs;
    try {
      msgs = this.reader.push(chunk);
    } catch (err) {
      this.die(`the torch worker (${this.python}) sent a malformed message: ${(err as Error).message}`, false);
      this.child.kill('SIGKILL');
      return;
    }
    for (const { header, frames } of msgs) {
      if (header.id === undefined || header.id === null) {
        if (header.method === 'log') {
          const p = header.params as { level?: string; message?: string } | undefined;
          this.onLog(p?.level === 'warn' ? 'warn' : 'info', String(p?.message ?? ''));
        }
        continue;
      }
      const id = Number(header.id);
      const p = this.pending.get(id);
      if (!p) continue;
      this.pending.delete(id);
      if (p.slot !== undefined) this.slots?.release(p.slot);
      const error = header.error as { kind?: string; message?: string; file?: string } | undefined;
      if (error) {
        const message = String(error.message ?? 'unknown error');
        if (error.kind === 'cancelled') p.reject(new CancelledError());
        // A rank of a distributed worker died or hung: the group is gone (docs/distributed.md).
        else if (error.kind === 'rank') p.reject(new WorkerDiedError(`torch worker: ${message}`));
        else if (error.kind === 'input' || error.kind === 'environment') {
          // The worker's message is one line, already "<file>: <what>" when it names a file.
          p.reject(workerInputError(error.file ?? (error.kind === 'environment' ? this.python : 'torch worker'), message));
        } else p.reject(new Error(`torch worker: ${message}`));
      } else {
        const set = p.scratch;
        const release = set
          ? () => {
              if (this.scratchSets.length < SCRATCH_SETS && !this.scratchSets.includes(set)) this.scratchSets.push(set);
            }
          : undefined;
        p.resolve({ result: (header.result as Record<string, unknown>) ?? {}, frames, elapsed: typeof header.elapsed === 'number' ? header.elapsed : undefined, ...(release ? { release } : {}) });
      }
    }
  }

  private readonly scratchSets: Uint8Array[][] = [];

  /** The reused buffer for frame `index` of the reply `header` answers, when its request asked for one. */
  private scratchFor(header: Record<string, unknown>, index: number, bytes: number): Uint8Array | undefined {
    const p = this.pending.get(Number(header.id));
    if (!p?.scratchReply || header.error) return undefined;
    p.scratch ??= this.scratchSets.pop() ?? [];
    if (!p.scratch[index] || p.scratch[index].byteLength < bytes) p.scratch[index] = uninitialisedBytes(bytes);
    return p.scratch[index];
  }

  /** Sends a request and waits for its answer; raising `stop` sends `cancel` (answered within about a second). */
  async request(method: string, params: Record<string, unknown> = {}, frames: readonly Frame[] = [], stop?: StopSignal, options: RequestOptions = {}): Promise<WorkerReply> {
    if (this.deadReason !== null) throw new WorkerDiedError(this.deadReason);
    const id = this.nextId++;
    const slot = this.slots?.acquire();
    const reply = new Promise<WorkerReply>((resolve, reject) => this.pending.set(id, { method, slot, scratchReply: options.scratchReply, resolve, reject }));
    // With a slot, big frames go into it and the reply may come back through it; a slot that
    // refuses the write (/dev/shm full) still carries the reply if the worker can write it.
    const descs = slot !== undefined ? this.slots!.writeFrames(slot, frames) : undefined;
    const header = slot !== undefined ? { id, method, params, slot } : { id, method, params };
    for (const b of encodeMessage(header, frames, descs)) this.child.stdin!.write(b);
    if (!stop) return reply;
    let cancelled = false;
    const timer = setInterval(() => {
      if (!cancelled && stop.isCancellationRequested && this.alive) {
        cancelled = true;
        for (const b of encodeMessage({ method: 'cancel', params: { id } })) this.child.stdin!.write(b);
      }
    }, 100);
    try {
      return await reply;
    } finally {
      clearInterval(timer);
    }
  }

  /** Ends the worker: `shutdown` when it is idle (or only disposing), else a kill. */
  close(): void {
    if (!this.alive) return;
    this.deadReason = 'the torch worker was closed';
    this.slots?.close();
    // Idle, or only freeing its model (a released worker's `dispose`): it shuts down after
    // answering, in order — a distributed worker then ends its other ranks cleanly too.
    if ([...this.pending.values()].every((p) => p.method === 'dispose')) {
      for (const b of encodeMessage({ id: this.nextId++, method: 'shutdown', params: {} })) this.child.stdin!.write(b);
      this.child.stdin!.end();
      setTimeout(() => this.child.kill('SIGKILL'), 5000).unref();
    } else this.child.kill('SIGKILL');
  }

  /** For tests: kills the worker as an OOM killer would. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }
}

/** Idle workers per interpreter and launch, kept for the next objective (importing torch takes seconds). */
const idle = new Map<string, TorchWorker[]>();
const busy = new Set<TorchWorker>();
const MAX_IDLE = 2;

/**
 * A live worker for an interpreter, for one objective at a time: an idle one, or a new one
 * (greeted with `hello`) when there is none or the last one died. Torch missing or too old is an
 * InputError naming the interpreter and how to install torch there.
 */
export async function acquireTorchWorker(python: string, args: readonly string[] = []): Promise<TorchWorker> {
  const key = poolKey(python, args);
  const list = idle.get(key) ?? [];
  while (list.length) {
    const w = list.pop()!;
    if (w.alive) {
      w.setRef(true);
      busy.add(w);
      return w;
    }
  }
  const w = new TorchWorker(python, args);
  try {
    w.hello = (await w.request('hello')).result;
  } catch (err) {
    w.close();
    // A worker that cannot even answer hello could not import its own dependencies.
    if (err instanceof WorkerDiedError) {
      const missing = /No module named '([^']+)'/.exec(err.message)?.[1];
      const why = missing ? `${missing} is not installed in ${python}` : `the torch worker does not start with ${python}`;
      throw workerInputError(python, `${python}: ${why}; install torch and numpy there: ${python} -m pip install torch numpy (${err.message})`);
    }
    throw err;
  }
  busy.add(w);
  return w;
}

/** Gives a worker back: its model and data are freed, and it waits for the next objective. */
export function releaseTorchWorker(w: TorchWorker): void {
  busy.delete(w);
  if (!w.alive) return;
  const key = poolKey(w.python, w.args);
  const list = idle.get(key) ?? [];
  if (list.length >= MAX_IDLE) {
    w.close();
    return;
  }
  void w.request('dispose').catch(() => undefined);
  w.setRef(false);
  list.push(w);
  idle.set(key, list);
}

function poolKey(python: string, args: readonly string[]): string {
  return [python, ...args].join('\u0000');
}

/** The workers now in use (tests kill one to check that a partial result survives). */
export function busyTorchWorkers(): TorchWorker[] {
  return [...busy];
}

/** Closes every worker (engine shutdown, tests). */
export function closeTorchWorkers(): void {
  for (const list of idle.values()) for (const w of list) w.close();
  idle.clear();
  for (const w of busy) w.close();
  busy.clear();
}
