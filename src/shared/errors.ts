/**
 * Errors that cross the engine boundary. An InputError is the user's to fix: its message
 * names the file (or option) and says what is wrong, in one line, so the CLI can print it
 * as is and the extension can show it in a notification.
 */
export class InputError extends Error {
  readonly source: string;
  readonly problem: string;
  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'InputError';
    this.source = source;
    this.problem = problem;
  }
}

/** Thrown between matrix-vector products or grid points when the caller asked to stop. */
export class CancelledError extends Error {
  constructor() {
    super('analysis cancelled');
    this.name = 'CancelledError';
  }
}

/** JSON-RPC error codes the engine answers with (application range, see JSON-RPC 2.0 §5.1). */
export const EngineErrorCode = {
  input: -32001,
  cancelled: -32800, // matches LSP's RequestCancelled
  numerical: -32002,
  internal: -32003,
} as const;
