import type { Evaluation } from '../../../src/engine/objective';
import type { PlaneHelper } from '../../../src/engine/planeHelper';

/**
 * A PlaneHelper on "another core" for grid tests: takes units from the shared counter as the
 * grid worker does (src/engine/tfjs/gridWorker.ts): it takes a unit as soon as it is asked (so
 * it always has one), then "computes" it for `delayMs` (each point by `lossAt`) and reports it.
 * `failOn`: it fails (rejects) once it has taken that many units, holding the last one;
 * `ready: false`: it never starts (takes nothing, rejects). `taken`: units taken; `units`: units done or failed on; `asked`: the units it reported.
 */
export function fakePlaneHelper(lossAt: (c: number[]) => number, opts: { failOn?: number; ready?: boolean; delayMs?: number } = {}): PlaneHelper & { taken: number; units: number; points: number; asked: number[][][] } {
  const { failOn = Infinity, ready = true, delayMs = 1 } = opts;
  const h = {
    taken: 0,
    units: 0,
    points: 0,
    asked: [] as number[][][],
    ready: Promise.resolve(ready),
    setPlane() {},
    async take(units: number[][][], claims: Int32Array, onUnit: (i: number, evs: Evaluation[]) => void): Promise<void> {
      if (!ready) throw new Error('did not start');
      for (;;) {
        if (Atomics.load(claims, 1) !== 0) return;
        const i = Atomics.add(claims, 0, 1);
        if (i >= units.length) return;
        h.taken++;
        await new Promise((r) => setTimeout(r, delayMs));
        if (++h.units >= failOn) throw new Error('worker crashed');
        h.asked.push(units[i]);
        h.points += units[i].length;
        onUnit(i, units[i].map((c) => ({ loss: lossAt(c), accuracy: 0.5 })));
      }
    },
    async close() {},
  };
  return h;
}
