import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import { z } from 'zod';
import type { Provenance } from './provenance';
import type { LosscapeResult } from './result';
import { LandscapeSpecSchema } from './specs/landscape';
import { GrokkingSpecSchema } from './specs/grokking';
import { TrajectorySpecSchema } from './specs/trajectory';
import { HessianSpecSchema } from './specs/hessian';
import { SharpnessSpecSchema } from './specs/sharpness';
import { SaliencySpecSchema } from './specs/saliency';
import { LossComparisonSpecSchema } from './specs/lossComparison';
import { ScalingSpecSchema } from './specs/scaling';

/**
 * The engine protocol (extension host or CLI ⇄ engine process), JSON-RPC over the child's IPC
 * channel. Every request and notification is declared here once; both sides import these.
 */

/** Every analysis the engine runs; a new analysis adds its spec schema here. */
export const AnalysisSpecSchema = z.discriminatedUnion('kind', [LandscapeSpecSchema, HessianSpecSchema, SharpnessSpecSchema, SaliencySpecSchema, GrokkingSpecSchema, TrajectorySpecSchema, LossComparisonSpecSchema, ScalingSpecSchema]);
export type AnalysisSpec = z.infer<typeof AnalysisSpecSchema>;
export type AnalysisSpecInput = z.input<typeof AnalysisSpecSchema>;

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BackendPreferenceSchema = z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
export type BackendPreference = z.infer<typeof BackendPreferenceSchema>;

export interface EngineInfo {
  backend: BackendName;
  /** TF.js version and, for native backends, the TensorFlow binding version. */
  version: string;
  /** Why a preferred backend was passed over (e.g. tfjs-node not installed). */
  notes: string[];
  pid: number;
}

export interface RunParams {
  /** Client-chosen id, echoed in progress notifications. */
  runId: string;
  spec: AnalysisSpecInput;
}

export interface RunOutcome {
  /** Path of the result file written. */
  out: string;
  result: LosscapeResult;
}

export interface ProgressParams {
  runId: string;
  /** 0..1 */
  fraction: number;
  message: string;
  /** The result so far (complete: false), when the analysis has a meaningful partial state. */
  partial?: LosscapeResult;
}

/** What computes the run's model, once it is loaded (the torch engine's worker: torch, device, threads). */
export interface ModelBackendParams {
  runId: string;
  backend: Provenance['backend'];
}

export interface LogParams {
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface TensorCount {
  numTensors: number;
  numBytes: number;
}

export const EngineInfoRequest = new RequestType0<EngineInfo, void>('losscape/engineInfo');
export const RunAnalysisRequest = new RequestType<RunParams, RunOutcome, void>('losscape/run');
export const TensorCountRequest = new RequestType0<TensorCount, void>('losscape/tensorCount');
export const DidProgressNotification = new NotificationType<ProgressParams>('losscape/progress');
export const DidLoadModelNotification = new NotificationType<ModelBackendParams>('losscape/modelBackend');
export const LogNotification = new NotificationType<LogParams>('losscape/log');
