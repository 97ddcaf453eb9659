/**
 * Contour levels and the colour position of a loss value, for a linear or a log colour scale.
 *
 * Log scale: log10(loss) when every value is positive (the usual case: cross-entropy, MSE),
 * so the colour bar is a true log axis. When the minimum is zero or negative, log10 would give
 * −∞ or NaN and poison every path, so the scale becomes log10(v − min + ε) with
 * ε = 10⁻²·(max − min): two decades of resolution above the floor. Levels are evenly spaced
 * in the transformed space and given back in loss units, so d3-contour runs on the raw grid
 * and the colour bar is labelled in loss values.
 */
import { format as d3format, scaleLog, ticks as d3ticks } from 'd3';
import type { AxisScale } from 'd3';

export type ColorMode = 'linear' | 'log';

export interface Levels {
  mode: ColorMode;
  min: number;
  max: number;
  /** Contour thresholds in loss units, ascending; the first is `min`, so level 0 covers the grid. */
  thresholds: number[];
  /** Position of a loss value on the colour scale, in [0, 1]; never NaN. */
  unit(v: number): number;
  /** Colour-bar tick values in loss units. */
  ticks(): number[];
  format(v: number): string;
}

export const DEFAULT_LEVELS = 20;

export function makeLevels(min: number, max: number, count: number = DEFAULT_LEVELS, mode: ColorMode = 'linear'): Levels {
  const n = Math.max(1, Math.floor(count));
  const span = max - min;
  const flat = !(span > 0) || !Number.isFinite(span);
  // Shift only when log10(v) is undefined somewhere on the grid.
  const shift = mode === 'log' && min <= 0;
  const eps = flat ? 1 : span * 1e-2;
  // The transform t(v) is monotone; positions are (t(v) − t(min)) / (t(max) − t(min)).
  const t =
    mode === 'log'
      ? shift
        ? (v: number): number => Math.log10(Math.max(v - min, 0) + eps)
        : (v: number): number => Math.log10(Math.max(v, min))
      : (v: number): number => v;
  const t0 = t(min);
  const t1 = t(max);
  const unit = (v: number): number => {
    if (flat || !Number.isFinite(v)) return 0;
    const u = (t(v) - t0) / (t1 - t0);
    return u < 0 ? 0 : u > 1 ? 1 : u;
  };
  const inverse =
    mode === 'log'
      ? shift
        ? (u: number): number => min - eps + Math.pow(10, t0 + u * (t1 - t0))
        : (u: number): number => Math.pow(10, t0 + u * (t1 - t0))
      : (u: number): number => min + u * span;
  const thresholds = flat ? [min] : Array.from({ length: n }, (_, k) => (k === 0 ? min : inverse(k / n)));
  const fmt = pickFormat(min, max);
  return {
    mode,
    min,
    max,
    thresholds,
    unit,
    ticks: () => (flat ? [min] : mode === 'linear' ? d3ticks(min, max, 5) : shift ? shiftedLogTicks(min, span, eps) : logTicks(min, max)),
    format: fmt,
  };
}

/**
 * d3's log ticks (1–9 × 10^k), thinned to 1, 2, 5 × 10^k, then to decades, to stay legible;
 * when that leaves fewer than three (a range within a decade, as on a narrow colour bar of a
 * trained model's basin), log-evenly spaced values rounded to two significant digits.
 */
function logTicks(min: number, max: number): number[] {
  const all = scaleLog().domain([min, max]).ticks();
  const mantissa = (v: number): number => Math.round(v / Math.pow(10, Math.floor(Math.log10(v) + 1e-9)));
  const few = all.filter((v) => [1, 2, 5].includes(mantissa(v)));
  if (few.length <= 7 && few.length >= 3) return few;
  const decades = all.filter((v) => mantissa(v) === 1);
  if (decades.length >= 3 && decades.length <= 7) return decades;
  if (all.length >= 3 && all.length <= 7) return all;
  return logEvenTicks(min, max, 5);
}

function logEvenTicks(min: number, max: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const exact = min * Math.pow(max / min, i / (n - 1));
    const v = i === 0 || i === n - 1 ? exact : +exact.toPrecision(2);
    if (v >= min && v <= max && !out.includes(v)) out.push(v);
  }
  return out;
}

/** min, then min + {1, 2, 5}·10^k: round offsets above the minimum, where the scale resolves. */
function shiftedLogTicks(min: number, span: number, eps: number): number[] {
  const offsets: number[] = [];
  const k0 = Math.floor(Math.log10(eps));
  const k1 = Math.ceil(Math.log10(span));
  for (let k = k0; k <= k1; k++) {
    for (const m of [1, 2, 5]) {
      const d = m * Math.pow(10, k);
      if (d > eps * 1.5 && d <= span) offsets.push(d);
    }
  }
  const decades = offsets.filter((d) => Math.abs(Math.log10(d) - Math.round(Math.log10(d))) < 1e-9);
  const chosen = offsets.length > 7 ? decades : offsets;
  return [min, ...chosen.map((d) => +(min + d).toPrecision(12))];
}

function pickFormat(min: number, max: number): (v: number) => string {
  const big = Math.max(Math.abs(min), Math.abs(max));
  const f = big >= 1e5 || (big > 0 && big < 1e-3) ? d3format('.2~e') : d3format('.3~g');
  return (v) => f(v);
}

/**
 * An axis scale placing loss values at their colour position between r0 (unit 0) and r1
 * (unit 1), so d3.axis can label a colour bar in loss units whatever the transform.
 */
export function levelScale(levels: Levels, r0: number, r1: number): AxisScale<number> {
  const scale = (v: number): number => r0 + levels.unit(v) * (r1 - r0);
  scale.domain = (): number[] => [levels.min, levels.max];
  scale.range = (): number[] => [r0, r1];
  scale.copy = () => levelScale(levels, r0, r1);
  return scale;
}
