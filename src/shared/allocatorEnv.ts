/**
 * glibc malloc settings for Losscape's compute processes (the engine process, the torch worker
 * and its ranks). By default glibc serves every allocation above its mmap threshold (128 KiB,
 * adjusted up to 32 MiB at most) with fresh pages from the kernel and returns them on free, so
 * each new vector of a big model costs a page fault per 4 KiB: on the VMs we measured, a fresh
 * 46 MB buffer took 33–43 ms to fill against 3–6 ms for reused memory, and one Hessian product of an 11M-parameter
 * MLP ran in 0.27–0.33 s with these settings against 0.61–0.65 s without. PyTorch's CPU tuning
 * guide makes the same point with jemalloc/tcmalloc; these tunables get there with glibc alone.
 *
 * Allocations up to 256 MiB come from the heap and up to 512 MiB of freed memory stays there for
 * the next one. The cost: a process's resident size falls back more slowly after a peak.
 * Settings the user already put in GLIBC_TUNABLES for malloc win; LOSSCAPE_MALLOC=default turns
 * this off. Other C libraries (macOS, Windows, musl) ignore the variable.
 */
export const MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=536870912';

export function withAllocatorEnv<E extends Record<string, string | undefined>>(env: E): E {
  if (env.LOSSCAPE_MALLOC === 'default') return env;
  const current = env.GLIBC_TUNABLES;
  if (current && /glibc\.malloc\./.test(current)) return env;
  return { ...env, GLIBC_TUNABLES: current ? `${current}:${MALLOC_TUNABLES}` : MALLOC_TUNABLES };
}
