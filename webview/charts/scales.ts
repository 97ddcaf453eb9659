/**
 * Continuous axes shared by the small charts (dashboard, bars, eigenvalues, density): a scale
 * with its tick values and tick format, for a linear or a logarithmic axis.
 *
 *   const ax = axisScale('log', values).range([h, 0]);  // { scale, ticks, format, kind }
 *
 * A log axis is a true log scale when every value is positive. When some are zero or negative
 * (step 0 of a training run, a negative eigenvalue) log10 is undefined there, so it becomes a
 * symlog scale whose linear region is the smallest |value| ≠ 0: zero stays on the axis, and
 * above that constant the axis reads like a log axis, ticked at 0 and ±1, 2, 5 × 10^k.
 */
import { format, scaleLinear, scaleLog, scaleSymlog } from 'd3';
import type { ScaleContinuousNumeric } from 'd3';

export type AxisKind = 'linear' | 'log';

export interface Axis {
  /** What was drawn: 'log' only when every value was positive; 'symlog' when log was asked for with values ≤ 0. */
  kind: 'linear' | 'log' | 'symlog';
  scale: ScaleContinuousNumeric<number, number>;
  ticks: number[];
  format: (v: number) => string;
}

export const isNum = (v: number | null | undefined): v is number => v !== null && v !== undefined && Number.isFinite(v);

export interface AxisOptions {
  /** Always include 0 in a linear domain (bars, stems). */
  zero?: boolean;
  /** A fixed domain (e.g. [0, 1] for accuracy), used as is. */
  domain?: readonly [number, number];
  /** Approximate tick count. */
  ticks?: number;
  /** nice() the linear domain (default true). */
  nice?: boolean;
}

/** A scale over the finite values; range [0, 1] until the caller sets it. */
export function axisScale(kind: AxisKind, values: ReadonlyArray<number | null>, opts: AxisOptions = {}): Axis {
  const finite = values.filter(isNum);
  const count = opts.ticks ?? 5;
  if (opts.domain) {
    const scale = scaleLinear().domain([opts.domain[0], opts.domain[1]]);
    return { kind: 'linear', scale, ticks: scale.ticks(count), format: tickFormat(opts.domain) };
  }
  let lo = finite.length ? Math.min(...finite) : 0;
  let hi = finite.length ? Math.max(...finite) : 1;
  if (kind === 'log' && lo > 0) {
    if (hi === lo) {
      lo /= 2;
      hi *= 2;
    }
    // A few percent of margin in log space; no nice(): it rounds out to whole decades.
    const m = Math.pow(hi / lo, 0.04);
    const scale = scaleLog().domain([lo / m, hi * m]);
    return { kind: 'log', scale, ticks: logTicks(lo / m, hi * m, count), format: tickFormat([lo, hi]) };
  }
  if (kind === 'log') {
    const nonzero = finite.filter((v) => v !== 0).map(Math.abs);
    const c = nonzero.length ? Math.min(...nonzero) : 1;
    if (hi === lo) hi = lo + c;
    const scale = scaleSymlog().constant(c).domain([lo, hi]);
    return { kind: 'symlog', scale, ticks: symlogTicks(lo, hi, c, count), format: tickFormat([lo, hi]) };
  }
  if (opts.zero) {
    lo = Math.min(0, lo);
    hi = Math.max(0, hi);
  }
  if (hi === lo) {
    const pad = Math.abs(hi) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  const scale = scaleLinear().domain([lo, hi]);
  if (opts.nice !== false) scale.nice(count);
  return { kind: 'linear', scale, ticks: scale.ticks(count), format: tickFormat(scale.domain() as [number, number]) };
}

const mantissa = (v: number): number => Math.round(Math.abs(v) / Math.pow(10, Math.floor(Math.log10(Math.abs(v)) + 1e-9)));

/** 1, 2, 5 × 10^k inside [lo, hi] (lo > 0), thinned to decades (then every other decade) when crowded. */
export function logTicks(lo: number, hi: number, count = 5): number[] {
  const all = scaleLog().domain([lo, hi]).ticks(20);
  const few = all.filter((v) => [1, 2, 5].includes(mantissa(v)));
  if (few.length >= 2 && few.length <= count + 2) return few;
  let decades = all.filter((v) => mantissa(v) === 1);
  while (decades.length > count + 2) decades = decades.filter((_, i) => i % 2 === 0);
  if (decades.length >= 2) return decades;
  return few.length >= 2 ? few.slice(0, count + 2) : [lo, hi].map((v) => +v.toPrecision(2));
}

/** 0 (when inside), and ±decades from the linear region's constant outwards. */
function symlogTicks(lo: number, hi: number, c: number, count: number): number[] {
  const out: number[] = [];
  if (lo <= 0 && hi >= 0) out.push(0);
  const k0 = Math.floor(Math.log10(c));
  for (const sign of [1, -1]) {
    const end = sign > 0 ? hi : -lo;
    if (end <= 0) continue;
    const k1 = Math.ceil(Math.log10(end));
    let ks: number[] = [];
    for (let k = k0; k <= k1; k++) if (Math.pow(10, k) <= end * 1.0001 && Math.pow(10, k) >= c * 0.9999) ks.push(k);
    while (ks.length > count) ks = ks.filter((_, i) => i % 2 === ks.length % 2);
    for (const k of ks) out.push(sign * Math.pow(10, k));
  }
  return out.sort((a, b) => a - b);
}

/** Tick labels: 12k for big numbers, 1e-5 for tiny ones, 3 significant digits otherwise. */
export function tickFormat(domain: readonly [number, number]): (v: number) => string {
  const big = Math.max(Math.abs(domain[0]), Math.abs(domain[1]));
  const si = format('~s');
  const exp = format('.0e');
  const plain = format('.3~g');
  return (v) => {
    if (v === 0) return '0';
    const a = Math.abs(v);
    if (a >= 1e3 || big >= 1e5) return si(v).replace('µ', 'μ');
    if (a < 1e-3) return exp(v);
    return plain(v);
  };
}

/** A value for read-outs and tables: 4 significant digits, exponent form outside [1e-3, 1e6). */
export function formatValue(v: number | null | undefined, digits = 4): string {
  if (!isNum(v)) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return expo(v, digits);
  return String(+v.toPrecision(digits));
}

/** 1.5e-4, not 1.500e-4: significant digits without trailing zeros. */
function expo(v: number, digits: number): string {
  const [m, e] = v.toExponential(digits - 1).split('e');
  const mant = m.includes('.') ? m.replace(/\.?0+$/, '') : m;
  return `${mant}e${e.replace('+', '')}`;
}

/** `value ± stderr` with the error to 2 significant digits and the value to the same decimal place. */
export function formatWithError(value: number, stderr: number | null | undefined): string {
  if (!isNum(stderr) || stderr <= 0) return formatValue(value);
  const a = Math.max(Math.abs(value), stderr);
  if (a < 1e-3 || a >= 1e6) return `${formatValue(value)} ± ${formatValue(stderr, 2)}`;
  const place = Math.floor(Math.log10(stderr)) - 1;
  const decimals = Math.max(0, -place);
  return `${value.toFixed(decimals)} ± ${stderr.toFixed(decimals)}`;
}

/** Rounds pixel coordinates to 0.01 px: shorter paths, no visible difference. */
export const px = (v: number): number => Math.round(v * 100) / 100;
