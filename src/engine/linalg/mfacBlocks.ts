/**
 * Block-diagonal M-FAC, as the reference implementation prunes (`IST-DASLab/M-FAC`,
 * `HInvFastBlock` in prun.py, `--blocksize` default 128): the flat parameter vector is cut
 * into consecutive blocks of B coordinates (the last one holding the remainder), and each
 * block b gets its own damped empirical Fisher from the same m gradients,
 *     F̂_b = λI + (1/m)·Σᵢ gᵢ,b gᵢ,bᵀ,
 * inverted by M-FAC's recursive Sherman–Morrison on the block. F̂⁻¹ is then block-diagonal.
 * Why: with d ≫ m the full form's correction to diag(F̂⁻¹) = 1/λ − Σᵢ vᵢⱼ²/dᵢ is about m/d
 * of 1/λ, so its saliency is nearly λθ²/2, magnitude pruning; a block of B ≲ m coordinates
 * is corrected by O(1), so the curvature actually changes the ranking.
 */
import { InputError } from '../../shared/errors';
import { throwIfCancelled } from './errors';
import { MFacInverse, type Gradient, type MFacOptions } from './mfac';

export class MFacBlockInverse {
  readonly dim: number;
  readonly m: number;
  readonly lambda: number;
  readonly blockSize: number;
  private readonly blocks: { offset: number; inv: MFacInverse }[] = [];

  private constructor(dim: number, m: number, lambda: number, blockSize: number) {
    this.dim = dim;
    this.m = m;
    this.lambda = lambda;
    this.blockSize = blockSize;
  }

  /**
   * Builds every block's inverse (yielding between blocks, so cancellation can arrive).
   * `blockSize` ≥ dim gives the full, non-blocked M-FAC.
   */
  static async build(gradients: readonly Gradient[], blockSize: number, options: MFacOptions = {}): Promise<MFacBlockInverse> {
    if (!Number.isInteger(blockSize) || blockSize < 1) throw new InputError('--block-size', `must be a positive integer or 'full', got ${blockSize}`);
    if (gradients.length === 0) throw new InputError('--gradients', 'at least one gradient is needed');
    const d = gradients[0].length;
    const B = Math.min(blockSize, d);
    const lambda = options.lambda ?? 1e-5;
    const self = new MFacBlockInverse(d, gradients.length, lambda, B);
    const nBlocks = Math.ceil(d / B);
    if (nBlocks === 1) {
      self.blocks.push({ offset: 0, inv: await MFacInverse.build(gradients, options) });
      return self;
    }
    for (let k = 0; k < nBlocks; k++) {
      throwIfCancelled(options.stop);
      const a = k * B;
      const b = Math.min(d, a + B);
      const slices = gradients.map((g) => g.subarray(a, b));
      self.blocks.push({ offset: a, inv: new MFacInverse(slices, { lambda, stop: options.stop }) });
      options.onProgress?.(k + 1, nBlocks);
      if (k % 16 === 15) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return self;
  }

  get blockCount(): number {
    return this.blocks.length;
  }

  /** F̂⁻¹x, block by block. */
  apply(x: ArrayLike<number>): Float64Array {
    if (x.length !== this.dim) throw new InputError('M-FAC', `vector has ${x.length} entries, expected ${this.dim}`);
    const out = new Float64Array(this.dim);
    for (const { offset, inv } of this.blocks) {
      const part = Float64Array.from({ length: inv.dim }, (_, i) => x[offset + i]);
      out.set(inv.apply(part), offset);
    }
    return out;
  }

  /** diag(F̂⁻¹), block by block. */
  diagonal(): Float64Array {
    const out = new Float64Array(this.dim);
    for (const { offset, inv } of this.blocks) out.set(inv.diagonal(), offset);
    return out;
  }

  /** OBS saliency ρⱼ = θⱼ² / (2·[F̂⁻¹]ⱼⱼ) (Hassibi & Stork 1993) with the block-diagonal F̂. */
  obsSaliency(theta: ArrayLike<number>): Float64Array {
    if (theta.length !== this.dim) throw new InputError('M-FAC', `weights have ${theta.length} entries, expected ${this.dim}`);
    const diag = this.diagonal();
    return Float64Array.from({ length: this.dim }, (_, t) => (theta[t] * theta[t]) / (2 * diag[t]));
  }
}
