import type { HessianProduct } from '../../shared/specs/hessian';
import type { StopSignal } from '../linalg/operator';
import { lanczosEigs } from '../linalg/lanczos';
import { Rng } from '../linalg/rng';
import type { Objective } from '../objective';
import { monitored } from './guard';

/**
 * Landscape directions along the top Hessian eigenvectors (the `hessian` direction kind): the
 * unit eigenvectors of the `dims` largest eigenvalues of ∇²L(θ) (Lanczos on the
 * objective's Hessian operator), so f(α, β) = L(θ + αv₁ + βv₂) ≈
 * L(θ) + ½(λ₁α² + λ₂β²) near the centre. Not filter-normalised: that would destroy the
 * eigenvector property. Each vector's sign is fixed so that its largest-magnitude entry is positive.
 */
export async function hessianDirections(
  obj: Objective,
  dims: 1 | 2,
  seed: number,
  stop: StopSignal,
  relativeStep = 1e-3,
  hv: HessianProduct = 'exact',
): Promise<{ vectors: Float32Array[]; eigenvalues: number[]; residuals: number[]; note: string }> {
  const curv = obj.curvature('hessian', { theta: obj.theta0, relativeStep, hv });
  let r: Awaited<ReturnType<typeof lanczosEigs>>;
  try {
    r = await lanczosEigs(monitored(curv.op, stop, () => undefined), { k: dims, rng: new Rng(seed), stop });
  } finally {
    curv.dispose();
    await obj.setParams(obj.theta0);
  }
  const vectors = r.eigenvectors.map((v) => {
    let at = 0;
    for (let i = 1; i < v.length; i++) if (Math.abs(v[i]) > Math.abs(v[at])) at = i;
    const s = v[at] < 0 ? -1 : 1;
    return Float32Array.from(v, (x) => s * x);
  });
  const errs = [...(curv.fd?.relativeErrors ?? [])].sort((a, b) => a - b);
  const fmt = (x: number) => x.toPrecision(4);
  const note =
    `unit eigenvectors of the top ${dims} Hessian eigenvalues (${r.eigenvalues.map((l, i) => `λ${i + 1} = ${fmt(l)}, residual ${fmt(r.residuals[i])}`).join('; ')}); ` +
    (curv.fd ? `finite-difference products with δ = ${relativeStep}, median estimated error ${errs.length ? fmt(errs[Math.floor(errs.length / 2)]) : 'n/a'}` : curv.description);
  return { vectors, eigenvalues: r.eigenvalues, residuals: r.residuals, note };
}
