import type { GrokkingPayload, Sweep, SweepRun } from '../../shared/results/grokking';
import { firstCrossing } from './events';

/**
 * Sweeps: several runs of one model that differ in one option (the seed model's α), summarised
 * into the `sweep` block of a grokking result so one dashboard shows them together. Each run's
 * events use the sweep's own thresholds (the same for every run), so delays compare.
 */
export function sweepRun(g: GrokkingPayload, value: number, label: string, trainThreshold: number, testThreshold: number, resultFile?: string): SweepRun {
  const trainStep = firstCrossing(g.steps, g.trainLoss, trainThreshold, 'below').step;
  const testStep = firstCrossing(g.steps, g.testLoss, testThreshold, 'below').step;
  return {
    value,
    label,
    steps: g.steps,
    trainLoss: g.trainLoss,
    testLoss: g.testLoss,
    ntkAlignment: g.ntkAlignment,
    trainStep,
    testStep,
    delay: trainStep !== null && testStep !== null ? testStep - trainStep : null,
    result: resultFile,
  };
}

export function makeSweep(parameter: string, label: string, trainThreshold: number, testThreshold: number, runs: SweepRun[], note?: string): Sweep {
  return { parameter, label, trainThreshold, testThreshold, runs: [...runs].sort((a, b) => a.value - b.value), note };
}
