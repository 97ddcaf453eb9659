/** Wall-clock timing for the bench rows: one way to take a median and a single run. */

/** Median wall time of `reps` runs of f, after `warmups` untimed runs, in seconds. */
export async function median(f: () => Promise<unknown>, reps: number, warmups: number): Promise<number> {
  for (let i = 0; i < warmups; i++) await f();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await f();
    t.push((performance.now() - t0) / 1000);
  }
  return t.sort((a, b) => a - b)[Math.floor(reps / 2)];
}

/** One timed run of f: its wall time in seconds and its value. */
export async function once<T>(f: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t0 = performance.now();
  const value = await f();
  return { seconds: (performance.now() - t0) / 1000, value };
}
