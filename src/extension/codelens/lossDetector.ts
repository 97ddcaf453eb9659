/**
 * Finds loss definitions in Python, TypeScript and JavaScript source, for the CodeLens
 * "Loss landscape · Sharpness · Hessian". Pure (text + language id in, sites out) so that it is
 * unit-tested without VS Code on a corpus of real-looking files (test/fixtures/codelens/).
 *
 * What counts as a loss:
 * - a function whose name has the word "loss" (`def focal_loss(`, `function contrastiveLoss(`,
 *   `const smoothLoss = (`), not `lossless`, not `loss_history`, `plot_loss_curve`, …;
 * - a Python class named …Loss… deriving from `nn.Module` or a `…Loss` base;
 * - a library loss: `nn.*Loss(`, `tf.losses.*`, `keras.losses.*`;
 * - the `loss=` (Python) or `loss:` (JS/TS) argument of a `compile(…)` call.
 * Comments and string contents never match (they are masked first).
 */
import { builtinLoss, type EngineLossName } from '../../shared/lossNames';
import { maskSource, type SourceLanguage } from './sourceMask';

export type LossOrigin = 'function' | 'class' | 'library' | 'compile';

export interface LossSite {
  /** 0-based line of the lens. */
  line: number;
  /** Character range on that line of the symbol the lens is about. */
  start: number;
  end: number;
  /** The symbol as written: `focal_loss`, `nn.CrossEntropyLoss`, `tf.losses.meanSquaredError`. */
  symbol: string;
  origin: LossOrigin;
  /** The engine loss it maps to, or 'custom' (user code, or a library loss the engine lacks). */
  loss: EngineLossName | 'custom';
  /** For a library loss: its name as the library spells it (also when the engine lacks it). */
  library?: string;
  /** From the library name or a `from_logits=True` / `fromLogits: true` argument. */
  fromLogits?: boolean;
  /** JS/TS: the function is exported from its module (so the engine could import it). */
  exported?: boolean;
}

export function sourceLanguageOf(languageId: string): SourceLanguage | undefined {
  if (languageId === 'python') return 'python';
  if (['typescript', 'javascript', 'typescriptreact', 'javascriptreact'].includes(languageId)) return 'js';
  return undefined;
}

/** Words that make a "loss" name something other than a loss (a record, a plot, a logger…). */
const NOT_A_LOSS = new Set([
  'history', 'hist', 'log', 'logs', 'logger', 'logging', 'plot', 'plots', 'curve', 'curves', 'meter',
  'tracker', 'track', 'record', 'records', 'list', 'print', 'dict', 'values', 'buffer', 'window', 'weights',
  'weight', 'scale', 'scaler', 'callback', 'monitor', 'chart', 'report', 'summary', 'display', 'show',
]);

/** `focal_loss` → [focal, loss]; `contrastiveLossFn` → [contrastive, loss, fn]; `MSELoss` → [mse, loss]. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_$]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

export function isLossName(name: string): boolean {
  const words = nameWords(name);
  return words.some((w) => w === 'loss' || w === 'losses') && !words.some((w) => NOT_A_LOSS.has(w));
}

interface Located {
  offset: number;
  site: Omit<LossSite, 'line' | 'start' | 'end'>;
  length: number;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return starts;
}

function toPosition(starts: number[], offset: number): { line: number; character: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo, character: offset - starts[lo] };
}

/** Index of the `)` matching the `(` at `open` in masked code, or -1. */
function matchingParen(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if (code[i] === '(') depth++;
    else if (code[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

function* matches(re: RegExp, code: string): Generator<RegExpExecArray> {
  re.lastIndex = 0;
  for (let m = re.exec(code); m; m = re.exec(code)) yield m;
}

const FROM_LOGITS_TRUE = /\b(?:from_logits\s*=\s*True|fromLogits\s*:\s*true)\b/;

function librarySite(symbol: string, name: string, args: string): Omit<LossSite, 'line' | 'start' | 'end'> {
  const b = builtinLoss(name);
  const fromLogits = FROM_LOGITS_TRUE.test(args) ? true : b?.fromLogits;
  return { symbol, origin: 'library', loss: b ? b.name : 'custom', library: name, ...(fromLogits !== undefined ? { fromLogits } : {}) };
}

/** The text of the call's arguments when `code[at]` is `(` (masked), else ''. */
function callArgs(code: string, at: number): string {
  if (code[at] !== '(') return '';
  const close = matchingParen(code, at);
  return close === -1 ? '' : code.slice(at, close + 1);
}

/** Library classes that are base classes or helpers, not losses. */
const LIBRARY_NON_LOSSES = new Set(['Loss', 'Reduction', 'get', 'serialize', 'deserialize', 'LossFunctionWrapper', 'computeWeightedLoss']);

function libraryLosses(code: string, language: SourceLanguage): Located[] {
  const out: Located[] = [];
  const patterns =
    language === 'python'
      ? [/\b(?:torch\.)?nn\.(\w+Loss)\s*(?=\()/g, /\b(?:tf\.keras|keras|tf)\.losses\.(\w+)/g]
      : [/\btf\.losses\.(\w+)/g];
  for (const re of patterns) {
    for (const m of matches(re, code)) {
      const name = m[1];
      if (LIBRARY_NON_LOSSES.has(name)) continue;
      const lineStart = code.lastIndexOf('\n', m.index) + 1;
      if (/^\s*(?:import|from)\b/.test(code.slice(lineStart, m.index))) continue;
      const after = m.index + m[0].length;
      const paren = code.slice(after).search(/\S/);
      const args = paren === -1 ? '' : callArgs(code, after + paren);
      out.push({ offset: m.index, length: m[0].length, site: librarySite(m[0].replace(/\s+$/, ''), name, args) });
    }
  }
  return out;
}

function definitions(code: string, language: SourceLanguage): Located[] {
  const out: Located[] = [];
  if (language === 'python') {
    for (const m of matches(/^[ \t]*(?:async[ \t]+)?def[ \t]+(\w+)[ \t]*\(/gm, code)) {
      if (!isLossName(m[1])) continue;
      out.push({ offset: m.index + m[0].indexOf(m[1], m[0].indexOf('def') + 3), length: m[1].length, site: { symbol: m[1], origin: 'function', loss: 'custom' } });
    }
    for (const m of matches(/^[ \t]*class[ \t]+(\w+)[ \t]*\(([^)]*)\)[ \t]*:/gm, code)) {
      const [, name, bases] = m;
      if (!isLossName(name) || !/\bModule\b|Loss\b/.test(bases)) continue;
      out.push({ offset: m.index + m[0].indexOf(name), length: name.length, site: { symbol: name, origin: 'class', loss: 'custom' } });
    }
    return out;
  }
  const fn = /^[ \t]*(export[ \t]+)?(?:default[ \t]+)?(?:async[ \t]+)?function[ \t]*\*?[ \t]*([A-Za-z_$][\w$]*)[ \t]*(?:<[^>(]*>)?[ \t]*\(/gm;
  for (const m of matches(fn, code)) {
    if (!isLossName(m[2])) continue;
    out.push({ offset: m.index + m[0].lastIndexOf(m[2]), length: m[2].length, site: { symbol: m[2], origin: 'function', loss: 'custom', exported: Boolean(m[1]) } });
  }
  const bound = /^[ \t]*(export[ \t]+)?(?:const|let|var)[ \t]+([A-Za-z_$][\w$]*)[ \t]*(?::[^=\n]*(?:=>[^=\n]*)*)?=[ \t]*(?:async[ \t]+)?(function\b|\(|[A-Za-z_$][\w$]*[ \t]*=>)/gm;
  for (const m of matches(bound, code)) {
    if (!isLossName(m[2])) continue;
    if (m[3] === '(') {
      // An arrow function's parameter list is followed by `=>` (after an optional return type).
      const open = m.index + m[0].length - 1;
      const close = matchingParen(code, open);
      if (close === -1 || !/^\s*(?::[^=;{]*)?=>/.test(code.slice(close + 1, close + 200))) continue;
    }
    out.push({ offset: m.index + m[0].indexOf(m[2]), length: m[2].length, site: { symbol: m[2], origin: 'function', loss: 'custom', exported: Boolean(m[1]) } });
  }
  for (const m of matches(/^[ \t]*(?:module\.)?exports\.([A-Za-z_$][\w$]*)[ \t]*=[ \t]*(?:async[ \t]+)?(?:function\b|\(|[A-Za-z_$][\w$]*[ \t]*=>)/gm, code)) {
    if (!isLossName(m[1])) continue;
    out.push({ offset: m.index + m[0].indexOf(m[1]), length: m[1].length, site: { symbol: m[1], origin: 'function', loss: 'custom', exported: true } });
  }
  return out;
}

/** `loss=` / `loss:` arguments of compile(…) calls. */
function compileLosses(code: string, text: string, language: SourceLanguage): Located[] {
  const out: Located[] = [];
  for (const m of matches(/\bcompile\s*\(/g, code)) {
    const open = m.index + m[0].length - 1;
    const close = matchingParen(code, open);
    if (close === -1) continue;
    const args = code.slice(open, close);
    const key = (language === 'python' ? /\bloss\s*=(?!=)\s*/ : /\bloss\s*:\s*/).exec(args);
    if (!key) continue;
    const keyAt = open + key.index;
    const valueAt = open + key.index + key[0].length;
    const head = code.slice(valueAt, close);
    const quoted = /^[rRbBuU]?(['"`])/.exec(head);
    let site: Omit<LossSite, 'line' | 'start' | 'end'>;
    if (quoted) {
      const q = valueAt + quoted[0].length;
      const end = code.indexOf(quoted[1], q);
      const name = text.slice(q, end === -1 ? q : end);
      site = librarySite(name, name, args);
      site.origin = 'compile';
    } else {
      const ident = /^[A-Za-z_$][\w$.]*/.exec(head);
      if (!ident) continue;
      const lib = /(?:^|\.)losses\.(\w+)$/.exec(ident[0]);
      if (lib) {
        site = librarySite(ident[0], lib[1], args);
        site.origin = 'compile';
      } else {
        site = { symbol: ident[0], origin: 'compile', loss: 'custom' };
      }
    }
    out.push({ offset: keyAt, length: 'loss'.length, site });
  }
  return out;
}

/** JS/TS: names exported after their definition (`export { a }`, `module.exports = { a }`, `export default a`). */
function laterExports(code: string): Set<string> {
  const names = new Set<string>();
  for (const m of matches(/\bexport\s*\{([^}]*)\}|\bmodule\.exports\s*=\s*\{([^}]*)\}/g, code)) {
    for (const part of (m[1] ?? m[2]).split(',')) {
      const name = part.trim().split(/\s+as\s+|\s*:\s*/)[0].trim();
      if (name) names.add(name);
    }
  }
  for (const m of matches(/\b(?:export\s+default|module\.exports\s*=)\s*([A-Za-z_$][\w$]*)\s*;?\s*$/gm, code)) names.add(m[1]);
  return names;
}

const PRIORITY: Record<LossOrigin, number> = { function: 0, class: 0, compile: 1, library: 2 };

/** Loss sites in `text`, at most one per line, in line order. */
export function detectLosses(text: string, languageId: string): LossSite[] {
  const language = sourceLanguageOf(languageId);
  if (!language) return [];
  const code = maskSource(text, language);
  const found = [...definitions(code, language), ...compileLosses(code, text, language), ...libraryLosses(code, language)];
  const exported = language === 'js' ? laterExports(code) : new Set<string>();
  const starts = lineStarts(text);
  const byLine = new Map<number, LossSite>();
  for (const f of found) {
    const pos = toPosition(starts, f.offset);
    const site: LossSite = { ...f.site, line: pos.line, start: pos.character, end: pos.character + f.length };
    if (language === 'js' && site.origin === 'function' && exported.has(site.symbol)) site.exported = true;
    const prev = byLine.get(pos.line);
    if (!prev || PRIORITY[site.origin] < PRIORITY[prev.origin]) byLine.set(pos.line, site);
  }
  return [...byLine.values()].sort((a, b) => a.line - b.line);
}
