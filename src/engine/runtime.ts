import type { EngineInfo } from '../shared/protocol';
import type { BackendInfo } from './objective';

/** The backend chosen at start-up, recorded in every result. */
let info: EngineInfo | null = null;

export function setEngineInfo(i: EngineInfo): void {
  info = i;
}

export function engineInfo(): EngineInfo {
  if (!info) throw new Error('backend not initialised: call selectBackend first');
  return info;
}

/** Who hears which backend computes a loaded model (the engine process tells its client). */
let modelBackendListener: ((b: BackendInfo) => void) | null = null;

export function onModelBackend(listener: ((b: BackendInfo) => void) | null): void {
  modelBackendListener = listener;
}

/** Called by an engine once its model is loaded, where the backend is known only then (torch). */
export function announceModelBackend(b: BackendInfo): void {
  modelBackendListener?.(b);
}
