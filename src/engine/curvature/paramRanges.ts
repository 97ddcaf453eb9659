import type { LinearOperator } from '../linalg/operator';
import type { Objective } from '../objective';

/** A contiguous block of parameters (a variable, or a layer's kernel and bias). */
export interface ParamRange {
  offset: number;
  size: number;
}

/**
 * P A Pᵀ for the coordinate selection P onto `ranges`: v is embedded into the full space (zeros
 * elsewhere), multiplied, and the same coordinates read back. Its eigenvalues and trace are
 * those of A's diagonal block for one layer (PyHessian's per-layer requests).
 */
export function restrictOperator(op: LinearOperator, ranges: readonly ParamRange[]): LinearOperator {
  const dim = ranges.reduce((a, r) => a + r.size, 0);
  return {
    dim,
    async matvec(v: Float64Array): Promise<Float64Array> {
      const full = new Float64Array(op.dim);
      let o = 0;
      for (const r of ranges) {
        full.set(v.subarray(o, o + r.size), r.offset);
        o += r.size;
      }
      const y = await op.matvec(full);
      const out = new Float64Array(dim);
      o = 0;
      for (const r of ranges) {
        out.set(y.subarray(r.offset, r.offset + r.size), o);
        o += r.size;
      }
      return out;
    },
  };
}

/** One range per layer (its variables are adjacent in the objective's order), in order. */
export function layerRanges(obj: Pick<Objective, 'groups'>): { layer: string; ranges: ParamRange[]; size: number }[] {
  const out: { layer: string; ranges: ParamRange[]; size: number }[] = [];
  for (const g of obj.groups) {
    const last = out[out.length - 1];
    if (last && last.layer === g.layer) {
      last.ranges.push({ offset: g.offset, size: g.size });
      last.size += g.size;
    } else out.push({ layer: g.layer, ranges: [{ offset: g.offset, size: g.size }], size: g.size });
  }
  return out;
}
