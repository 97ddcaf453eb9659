import type { Interval, ScalingPayload } from '../shared/results/scaling';

const fmt = (v: number): string => (v === 0 ? '0' : Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toPrecision(4));
const iv = (i: Interval | undefined): string => (i ? ` [${fmt(i.lo)}, ${fmt(i.hi)}]` : '');

/** A few lines about a scaling-law fit (printed by `losscape scaling`). */
export function summariseScaling(s: ScalingPayload): string {
  const f = s.fit;
  const lines = [
    `${s.law}: ${s.formula} · ${s.rows.length} rows fitted (${s.excluded.length} excluded) · Huber δ ${f.huberDelta} · objective ${f.objective.toExponential(4)} · ${f.startsAtBest}/${f.starts} starts at the best`,
    Object.entries(f.params)
      .map(([k, v]) => `${k} ${fmt(v)}${iv(f.intervals?.[k])}`)
      .join(' · ') + (f.bootstrap ? ` (${Math.round(f.bootstrap.level * 100)} % bootstrap, ${f.bootstrap.replicates} replicates)` : ''),
  ];
  for (const p of s.predictions) {
    lines.push(`predict ${Object.entries(p.at).map(([k, v]) => `${k}=${fmt(v)}`).join(', ')}: L ${fmt(p.loss)}${iv(p.interval)}`);
  }
  if (s.holdout) {
    const h = s.holdout;
    lines.push(`held out ${h.mode === 'run' ? `run ${h.run}` : `largest model (N=${fmt(h.final.N)})`}: measured ${fmt(h.final.loss)}, predicted ${fmt(h.predicted)}${iv(h.interval)}, absolute relative error ${(100 * h.absoluteRelativeError).toFixed(2)} %`);
  }
  if (s.computeOptimal) {
    const c = s.computeOptimal;
    lines.push(`compute-optimal: N_opt ∝ C^${c.a.toFixed(3)}${iv(c.intervals?.a)}, D_opt ∝ C^${c.b.toFixed(3)}${iv(c.intervals?.b)}`);
    for (const p of c.points) {
      lines.push(`  C ${fmt(p.C)}: N ${fmt(p.N)}${iv(p.intervals?.N)}, D ${fmt(p.D)}${iv(p.intervals?.D)}, ${p.tokensPerParameter.toFixed(1)} tokens/parameter${iv(p.intervals?.tokensPerParameter)}, L ${fmt(p.loss)}`);
    }
  }
  return lines.join('\n');
}
