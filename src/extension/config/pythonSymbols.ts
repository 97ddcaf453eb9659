/**
 * The top-level classes and functions of a Python file, for the QuickPicks of "Add
 * Configuration…" (a PyTorch model's class or factory; a loss function or nn.Module class).
 * A reading of `class NAME(…):` and `def NAME(…)` at column 0, not a parser: nested and
 * decorated-away definitions are what a user would not pick anyway. Pure (unit-tested).
 */
export interface PythonSymbol {
  name: string;
  kind: 'class' | 'function';
  /** The class's bases as written (`nn.Module`), or the function's parameters. */
  detail: string;
  /** 0-based line. */
  line: number;
}

export function pythonSymbols(text: string): PythonSymbol[] {
  const out: PythonSymbol[] = [];
  text.split(/\r?\n/).forEach((l, line) => {
    const c = /^class\s+([A-Za-z_]\w*)\s*(?:\(([^)]*)\))?\s*:/.exec(l);
    if (c) out.push({ name: c[1], kind: 'class', detail: (c[2] ?? '').trim(), line });
    const d = /^(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(([^)]*)\)?/.exec(l);
    if (d && !d[1].startsWith('_')) out.push({ name: d[1], kind: 'function', detail: (d[2] ?? '').trim(), line });
  });
  return out;
}

const isModule = (s: PythonSymbol): boolean => s.kind === 'class' && /\b(?:nn\.)?Module\b/.test(s.detail);
const lossLike = (s: PythonSymbol): boolean => /loss|criterion/i.test(s.name);

/** Candidates for a model: nn.Module classes first, then other classes and factories (not loss-like names). */
export function modelCandidates(symbols: readonly PythonSymbol[]): PythonSymbol[] {
  const rank = (s: PythonSymbol): number => (lossLike(s) ? 3 : isModule(s) ? 0 : s.kind === 'class' ? 1 : 2);
  return [...symbols].sort((a, b) => rank(a) - rank(b) || a.line - b.line);
}

/** Candidates for a loss: loss-like names first (functions and nn.Module classes), then the rest. */
export function lossCandidates(symbols: readonly PythonSymbol[]): PythonSymbol[] {
  const rank = (s: PythonSymbol): number => (lossLike(s) ? 0 : 1);
  return [...symbols].sort((a, b) => rank(a) - rank(b) || a.line - b.line);
}
