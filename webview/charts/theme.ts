/**
 * Colours for data marks, read from the VS Code theme's CSS variables.
 *
 * Structural colours (text, axes, tooltips, buttons) live in media/losscape.css as
 * `var(--vscode-…, fallback)`, so they follow a theme change by themselves. Data colours
 * are handed to the charts as plain strings (charts stay pure functions of data + options),
 * so a theme change re-renders. Fallbacks are a light theme: the standalone HTML report
 * has no VS Code variables and must still look right.
 */
import { interpolateViridis } from 'd3';

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export interface Theme {
  kind: ThemeKind;
  foreground: string;
  background: string;
  /** Secondary text, grid lines. */
  muted: string;
  /** Loss line, primary series. */
  primary: string;
  /** Accuracy line, second series. */
  secondary: string;
  /** Path overlay on the contour plot. */
  path: string;
  /**
   * Categorical colours for further series (layers, sweep runs), distinct from each other and
   * from `primary`/`secondary`; VS Code's chart colours where the theme defines them.
   */
  palette: string[];
  /** Marker of the centre θ. */
  center: string;
  focus: string;
  /** Colour map for loss on the unit interval (0 = lowest). */
  interpolate: (t: number) => string;
  /**
   * Ordered series (sweep runs by α) on [0, 1]: viridis without the end that sinks into the
   * background (dark purple on dark themes, yellow on light ones).
   */
  sequential: (t: number) => string;
  /** Stroke of contour lines: faint normally, strong in high contrast. */
  contourStroke: string;
  contourStrokeOpacity: number;
}

const LIGHT = {
  foreground: '#1f2328',
  background: '#ffffff',
  muted: '#6e7781',
  primary: '#1a73e8',
  secondary: '#e8710a',
  path: '#d93025',
  focus: '#0969da',
};

/** Light-theme fallbacks of VS Code's `--vscode-charts-*` colours (and two more), in palette order. */
const PALETTE: ReadonlyArray<readonly [variable: string | null, fallback: string]> = [
  ['--vscode-charts-green', '#188038'],
  ['--vscode-charts-purple', '#8430ce'],
  ['--vscode-charts-red', '#d93025'],
  ['--vscode-charts-yellow', '#b58500'],
  [null, '#12939a'],
  [null, '#c2185b'],
];

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v === '' ? fallback : v;
}

/** The theme kind from VS Code's body classes (`vscode-dark`, `vscode-high-contrast`, …). */
export function themeKind(body: HTMLElement): ThemeKind {
  const c = body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  if (c.contains('vscode-dark')) return 'dark';
  return 'light';
}

/** Reads the current theme; call again after a theme change. */
export function readTheme(body: HTMLElement = document.body): Theme {
  const style = getComputedStyle(body);
  const kind = themeKind(body);
  const highContrast = kind === 'high-contrast' || kind === 'high-contrast-light';
  const foreground = cssVar(style, '--vscode-editor-foreground', LIGHT.foreground);
  const background = cssVar(style, '--vscode-editor-background', LIGHT.background);
  const primary = cssVar(style, '--vscode-charts-blue', LIGHT.primary);
  const secondary = cssVar(style, '--vscode-charts-orange', LIGHT.secondary);
  return {
    kind,
    foreground,
    background,
    // High contrast themes want full-strength strokes everywhere; muted grey would fail.
    muted: highContrast ? foreground : cssVar(style, '--vscode-descriptionForeground', LIGHT.muted),
    primary: highContrast ? foreground : primary,
    secondary,
    path: cssVar(style, '--vscode-charts-red', LIGHT.path),
    palette: PALETTE.map(([v, fallback]) => (v ? cssVar(style, v, fallback) : fallback)),
    center: highContrast ? cssVar(style, '--vscode-contrastActiveBorder', foreground) : foreground,
    focus: cssVar(style, '--vscode-focusBorder', LIGHT.focus),
    interpolate: viridis,
    sequential: kind === 'dark' || kind === 'high-contrast' ? (t) => viridis(0.32 + 0.66 * t) : (t) => viridis(0.05 + 0.75 * t),
    // Contour lines sit on the colour map, not on the editor background, so one dark stroke
    // serves every theme; high contrast makes it nearly opaque.
    contourStroke: '#000000',
    contourStrokeOpacity: highContrast ? 0.85 : 0.22,
  };
}

/**
 * Viridis is perceptually uniform and readable in grey and by colour-blind readers; its ends
 * (dark purple, yellow) both stay distinct from light and dark editor backgrounds.
 */
function viridis(t: number): string {
  return interpolateViridis(Math.max(0, Math.min(1, t)));
}
