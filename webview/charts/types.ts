import type { Selection } from 'd3';

/** The `<g>` a chart draws into; the caller owns the `<svg>` and places the group. */
export type SvgG = Selection<SVGGElement, unknown, null, undefined>;

export interface Margin {
  top: number;
  right: number;
  bottom: number;
  left: number;
}
