import type { LosscapeResult } from '../shared/result';
import { summariseGrokking } from './commands/grokking';
import { summariseScaling } from './scalingSummary';
import { summariseHessian, summariseSaliency, summariseSharpness } from './curvatureSummary';
import { summariseLossComparison } from './commands/compareLosses';

/** A few human lines about a result, printed by the CLI after it is written. */
export function summarise(r: LosscapeResult): string {
  if (r.kind === 'scaling') return summariseScaling(r.result);
  const p = r.provenance;
  const params = p.loss.params && Object.keys(p.loss.params).length ? ` (${Object.entries(p.loss.params).map(([k, v]) => `${k} = ${v}`).join(', ')})` : '';
  const warnings = (p.loss.warnings ?? []).map((w) => `\nwarning: ${w}`).join('');
  const head = `${r.kind} · ${p.model.parameterCount} parameters · ${p.data.samplesUsed} samples · loss ${p.loss.name}${params} · ${r.backend} · ${p.timings.seconds.toFixed(1)} s${warnings}`;
  switch (r.kind) {
    case 'landscape': {
      const l = r.result;
      const vals = (l.dims === 2 ? l.loss.flat() : l.loss).filter((v): v is number => v !== null);
      const lo = Math.min(...vals);
      const hi = Math.max(...vals);
      return `${head}\ncentre loss ${l.centerLoss.toPrecision(6)}${l.centerAccuracy !== null ? `, accuracy ${(100 * l.centerAccuracy).toFixed(2)} %` : ''}; grid loss ${lo.toPrecision(4)} … ${hi.toPrecision(4)}`;
    }
    case 'grokking':
      return `${head}\n${summariseGrokking(r.result)}`;
    case 'hessian':
      return `${head}\n${summariseHessian(r.result)}`;
    case 'sharpness':
      return `${head}\n${summariseSharpness(r.result)}`;
    case 'saliency':
      return `${head}\n${summariseSaliency(r.result)}`;
    case 'loss-comparison':
      return `${head}\n${summariseLossComparison(r.result)}`;
  }
}
