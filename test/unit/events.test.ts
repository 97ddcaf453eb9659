import assert from 'node:assert/strict';
import { defaultLossThreshold, detectGrokkingEvents, firstCrossing } from '../../src/engine/grokking/events';
import { makeSweep, sweepRun } from '../../src/engine/grokking/sweep';
import type { GrokkingPayload } from '../../src/shared/results/grokking';

/** A log-spaced step axis and a logistic drop from `hi` to `lo` centred at step `at` (log scale). */
function steps(): number[] {
  const s = [0];
  for (let e = 0; e <= 4; e += 0.125) s.push(Math.round(10 ** e));
  return [...new Set(s)];
}
function drop(st: number[], at: number, hi: number, lo: number, width = 0.15): number[] {
  return st.map((t) => lo + (hi - lo) / (1 + Math.exp((Math.log10(Math.max(t, 1)) - Math.log10(at)) / width)));
}

describe('grokking events on synthetic curves', () => {
  it('finds where train and test loss cross their thresholds, and the delay', () => {
    const st = steps();
    const train = drop(st, 100, 1, 0.001);
    const test = drop(st, 3000, 1.2, 0.01);
    const { events, delay } = detectGrokkingEvents(
      { steps: st, trainLoss: train, testLoss: test, trainAccuracy: null, testAccuracy: null },
      { trainLossBelow: 0.1, testLossBelow: 0.1 },
    );
    // Independent: the first step whose value is ≤ 0.1, by a linear scan written out here.
    const first = (v: number[]) => st[v.findIndex((x) => x <= 0.1)];
    assert.equal(events[0].step, first(train));
    assert.equal(events[1].step, first(test));
    assert.ok(events[0].step! > 100 && events[0].step! < 300, `train event ${events[0].step}`);
    assert.ok(events[1].step! > 3000 && events[1].step! < 10000, `test event ${events[1].step}`);
    assert.equal(delay, events[1].step! - events[0].step!);
    assert.ok(events[1].value! <= 0.1 && events[0].value! <= 0.1);
  });

  it('counts the first crossing only, skips missing values, and reports never-crossed curves as null', () => {
    const st = [0, 10, 20, 30, 40, 50];
    // Noisy: dips below at 20, rebounds, stays below from 40.
    assert.deepEqual(firstCrossing(st, [1, 0.5, 0.09, 0.2, 0.05, 0.04], 0.1, 'below'), { step: 20, value: 0.09 });
    assert.deepEqual(firstCrossing(st, [null, NaN, 0.2, 0.05, null, 0.01], 0.1, 'below'), { step: 30, value: 0.05 });
    assert.deepEqual(firstCrossing(st, [1, 1, 1, 1, 1, 1], 0.1, 'below'), { step: null, value: null });
    assert.deepEqual(firstCrossing(st, [0.1, 0.5, 0.96, 0.97, 0.99, 1], 0.95, 'above'), { step: 20, value: 0.96 });
    // A threshold met exactly counts.
    assert.equal(firstCrossing(st, [1, 0.1], 0.1, 'below').step, 10);
  });

  it('adds accuracy events, and the delay is null unless both loss events happened', () => {
    const st = [0, 1, 2, 3];
    const { events, delay } = detectGrokkingEvents(
      { steps: st, trainLoss: [2, 0.1, 0.01, 0.001], testLoss: [2, 1.9, 1.8, 1.7], trainAccuracy: [0.1, 0.9, 0.99, 1], testAccuracy: [0.1, 0.2, 0.3, 0.96] },
      { trainLossBelow: 0.2, testLossBelow: 0.2, trainAccuracyAbove: 0.99, testAccuracyAbove: 0.95 },
    );
    assert.deepEqual(events.map((e) => [e.id, e.step]), [['train-loss', 1], ['test-loss', null], ['train-accuracy', 2], ['test-accuracy', 3]]);
    assert.equal(delay, null);
    assert.equal(defaultLossThreshold([null, 2.5, 1]), 0.25);
    assert.equal(defaultLossThreshold([null, null]), null);
  });

  it('summarises sweep runs with shared thresholds, sorted by the swept value', () => {
    const st = steps();
    const run = (at: number): GrokkingPayload =>
      ({ steps: st, trainLoss: drop(st, 30, 1, 0.001), testLoss: drop(st, at, 1, 0.01), ntkAlignment: st.map(() => 0.5) }) as unknown as GrokkingPayload;
    const runs = [sweepRun(run(3000), 2, 'α = 2', 0.1, 0.1), sweepRun(run(300), 0.5, 'α = 0.5', 0.1, 0.1), sweepRun(run(1e6), 4, 'α = 4', 0.1, 0.1)];
    const sweep = makeSweep('alpha', 'α', 0.1, 0.1, runs);
    assert.deepEqual(sweep.runs.map((r) => r.value), [0.5, 2, 4]);
    assert.ok(sweep.runs[0].delay! < sweep.runs[1].delay!);
    assert.equal(sweep.runs[2].testStep, null);
    assert.equal(sweep.runs[2].delay, null);
  });
});
