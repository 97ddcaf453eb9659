/**
 * Progress arithmetic for the progress notification: percentage increments (VS Code's progress
 * `increment` is cumulative) and an estimate of the time left from the time spent so far. Pure.
 */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 3600) {
    const m = Math.floor(seconds / 60);
    const s = Math.round(seconds - m * 60);
    return s === 0 || m >= 10 ? `${m} min` : `${m} min ${s} s`;
  }
  const h = Math.floor(seconds / 3600);
  return `${h} h ${Math.round((seconds - h * 3600) / 60)} min`;
}

/** "~12 s left", or '' while too little is done to tell (under 2 % or under a second). */
export function estimateTimeLeft(elapsedMs: number, fraction: number): string {
  if (!(fraction > 0.02) || elapsedMs < 1000) return '';
  if (fraction >= 1) return '';
  const left = ((elapsedMs / 1000) * (1 - fraction)) / fraction;
  return `~${formatDuration(left)} left`;
}

/** Turns absolute fractions into the increments VS Code wants, never going backwards. */
export class ProgressIncrements {
  private reported = 0;
  /** The increment (in percent) to report for a new fraction in [0, 1]. */
  next(fraction: number): number {
    const pct = Math.min(100, Math.max(0, fraction * 100));
    const inc = pct - this.reported;
    if (inc <= 0) return 0;
    this.reported = pct;
    return inc;
  }
  get percent(): number {
    return this.reported;
  }
}
