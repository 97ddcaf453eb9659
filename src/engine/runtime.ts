import type { EngineInfo } from '../shared/protocol';

/** The backend chosen at start-up, recorded in every result. */
let info: EngineInfo | null = null;

export function setEngineInfo(i: EngineInfo): void {
  info = i;
}

export function engineInfo(): EngineInfo {
  if (!info) throw new Error('backend not initialised: call selectBackend first');
  return info;
}
