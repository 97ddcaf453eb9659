import type { GrokkingEvent } from '../../shared/results/grokking';

/**
 * Events on training curves sampled at checkpoints. An event is the first checkpoint whose value
 * crosses a threshold (≤ for `below`, ≥ for `above`); a later rebound does not undo it, and no
 * interpolation between checkpoints is attempted (the step is a checkpoint's step). Missing
 * values (null, NaN) never cross. The grokking delay is the test-loss event's step minus the
 * train-loss event's step (Power et al. 2022; Kumar et al. 2023 measure it the same way).
 */
export function firstCrossing(
  steps: ArrayLike<number>,
  values: ArrayLike<number | null>,
  threshold: number,
  direction: 'below' | 'above',
): { step: number | null; value: number | null } {
  for (let i = 0; i < steps.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    if (direction === 'below' ? v <= threshold : v >= threshold) return { step: steps[i], value: v };
  }
  return { step: null, value: null };
}

export interface EventSpec {
  id: string;
  label: string;
  series: string;
  direction: 'below' | 'above';
  threshold: number;
}

export function detectEvent(steps: ArrayLike<number>, values: ArrayLike<number | null>, spec: EventSpec): GrokkingEvent {
  const { step, value } = firstCrossing(steps, values, spec.threshold, spec.direction);
  return { ...spec, step, value };
}

/** Step of `later` minus step of `earlier`; null unless both happened. */
export function delayBetween(earlier: GrokkingEvent | undefined, later: GrokkingEvent | undefined): number | null {
  if (!earlier || !later || earlier.step === null || later.step === null) return null;
  return later.step - earlier.step;
}

export interface Thresholds {
  trainLossBelow: number;
  testLossBelow: number;
  trainAccuracyAbove?: number;
  testAccuracyAbove?: number;
}

export interface Curves {
  steps: number[];
  trainLoss: (number | null)[];
  testLoss: (number | null)[];
  trainAccuracy: (number | null)[] | null;
  testAccuracy: (number | null)[] | null;
}

/** Default loss threshold: a tenth of the first checkpoint's train loss (null when it is unknown). */
export function defaultLossThreshold(trainLoss: (number | null)[]): number | null {
  const first = trainLoss.find((v) => v !== null && Number.isFinite(v));
  return first === undefined || first === null ? null : 0.1 * first;
}

const fmt = (v: number): string => (Math.abs(v) >= 0.01 || v === 0 ? String(+v.toPrecision(3)) : v.toExponential(2));

/** The train/test loss (and optional accuracy) events, and the grokking delay. */
export function detectGrokkingEvents(c: Curves, t: Thresholds): { events: GrokkingEvent[]; delay: number | null } {
  const events: GrokkingEvent[] = [
    detectEvent(c.steps, c.trainLoss, { id: 'train-loss', label: `train loss ≤ ${fmt(t.trainLossBelow)}`, series: 'trainLoss', direction: 'below', threshold: t.trainLossBelow }),
    detectEvent(c.steps, c.testLoss, { id: 'test-loss', label: `test loss ≤ ${fmt(t.testLossBelow)}`, series: 'testLoss', direction: 'below', threshold: t.testLossBelow }),
  ];
  if (t.trainAccuracyAbove !== undefined && c.trainAccuracy) {
    events.push(detectEvent(c.steps, c.trainAccuracy, { id: 'train-accuracy', label: `train accuracy ≥ ${fmt(t.trainAccuracyAbove)}`, series: 'trainAccuracy', direction: 'above', threshold: t.trainAccuracyAbove }));
  }
  if (t.testAccuracyAbove !== undefined && c.testAccuracy) {
    events.push(detectEvent(c.steps, c.testAccuracy, { id: 'test-accuracy', label: `test accuracy ≥ ${fmt(t.testAccuracyAbove)}`, series: 'testAccuracy', direction: 'above', threshold: t.testAccuracyAbove }));
  }
  return { events, delay: delayBetween(events[0], events[1]) };
}
