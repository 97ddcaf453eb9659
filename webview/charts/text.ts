/**
 * Text widths for layout. SVG text has no width until it is laid out, so a label is measured
 * by drawing it hidden with its class (its font comes from the CSS), reading
 * getComputedTextLength, and removing it. Where nothing is laid out (a detached or hidden
 * element) the width is estimated from the character count.
 */
import type { SvgG } from './types';

/** Rough width of `text` at `size` px in a UI sans-serif font. */
export function estimateWidth(text: string, size = 12): number {
  return Math.ceil(text.length * size * 0.56);
}

/** Width of `text` drawn with `className` inside `parent`, in px. */
export function measureText(parent: SvgG, text: string, className: string, size = 12): number {
  const t = parent.append('text').attr('class', className).attr('visibility', 'hidden').text(text);
  const node = t.node();
  const w = node && typeof node.getComputedTextLength === 'function' ? node.getComputedTextLength() : 0;
  t.remove();
  return w > 0 ? Math.ceil(w) : estimateWidth(text, size);
}
