import type { HessianPayload } from '../shared/results/hessian';
import type { SaliencyPayload } from '../shared/results/saliency';
import type { SharpnessPayload } from '../shared/results/sharpness';

/** Summary lines for the curvature kinds (hessian, sharpness, saliency), used by summary.ts. */
const g = (x: number, digits = 4): string => (Number.isFinite(x) ? x.toPrecision(digits) : String(x));

export function summariseHessian(h: HessianPayload): string {
  const lines = [`operator ${h.operator} · loss ${g(h.loss, 6)} · ‖∇L‖ ${g(h.gradientNorm)}`];
  if (h.eigenvalues.length) lines.push(`top eigenvalues ${h.eigenvalues.map((v) => g(v)).join(', ')} (max residual ${g(Math.max(...h.residuals), 2)})`);
  if (h.bottom) lines.push(`bottom eigenvalues ${h.bottom.eigenvalues.map((v) => g(v)).join(', ')}`);
  if (h.trace) lines.push(`trace ${g(h.trace.estimate)} ± ${g(h.trace.stderr, 2)} (${h.trace.method}, ${h.trace.probes} probes)${h.lambdaMaxOverTrace !== null ? ` · λmax/trace ${g(h.lambdaMaxOverTrace, 3)}` : ''}`);
  if (h.density) lines.push(`density: ${h.density.starts} × ${h.density.steps} Lanczos steps, λ in [${g(h.density.lambdaMin)}, ${g(h.density.lambdaMax)}]`);
  if (h.layers) lines.push(`per layer λmax: ${h.layers.map((l) => `${l.layer} ${l.topEigenvalue === null ? '–' : g(l.topEigenvalue)}`).join(', ')}`);
  if (h.finiteDifference && h.finiteDifference.products > 0) {
    const fd = h.finiteDifference;
    lines.push(`finite differences: δ = ${fd.relativeStep}, ${fd.products} products, estimated relative error median ${g(fd.medianRelativeError ?? NaN, 2)}, max ${g(fd.maxRelativeError ?? NaN, 2)}`);
  }
  return lines.join('\n');
}

export function summariseSharpness(s: SharpnessPayload): string {
  const lines = [`loss ${g(s.loss, 6)} · ‖∇L‖ ${g(s.gradientNorm)}`];
  for (const e of s.sam) lines.push(`SAM ρ = ${e.rho}: first-order +${g(e.firstOrder)}, ascent +${g(e.ascent)}`);
  for (const e of s.asam ?? []) lines.push(`ASAM ρ = ${e.rho} (η ${e.eta}): first-order +${g(e.firstOrder)}, ascent +${g(e.ascent)}`);
  if (s.keskar) lines.push(`Keskar ε = ${s.keskar.epsilon}${s.keskar.subspace ? ` (subspace ${s.keskar.subspace})` : ''}: φ = ${g(s.keskar.value)}`);
  for (const a of s.averageCase) lines.push(`average case σ = ${g(a.sigma, 3)}: +${g(a.mean)} ± ${g(a.stderr, 2)} (${a.samples} draws)`);
  return lines.join('\n');
}

export function summariseSaliency(s: SaliencyPayload): string {
  const blocks = s.blockSize !== undefined ? (s.blocks === 1 ? ', full F̂' : `, ${s.blocks} diagonal blocks of ${s.blockSize}`) : '';
  const lines = [`M-FAC OBS saliency from m = ${s.gradients} gradients of ${s.gradientBatch} sample(s), λ = ${s.lambda}${blocks}`];
  if (s.spearmanVsMagnitude != null) {
    const overlap = s.thresholds.filter((t) => t.magnitudeOverlap !== undefined).map((t) => `${(100 * t.magnitudeOverlap!).toFixed(0)} % at ${(100 * t.sparsity).toFixed(0)} %`).join(', ');
    lines.push(`Spearman ρ(saliency, |θ|) = ${s.spearmanVsMagnitude.toFixed(4)}${overlap ? `; pruned set shared with magnitude pruning: ${overlap}` : ''}`);
  }
  for (const l of s.layers) lines.push(`${l.layer}: mean ${g(l.mean, 3)}, median ${g(l.median, 3)}${l.pruned.map((p) => `, ${(100 * p.fraction).toFixed(0)} % pruned at ${(100 * p.sparsity).toFixed(0)} %`).join('')}`);
  return lines.join('\n');
}
