/**
 * A hover read-out: one absolutely positioned box inside a chart's container.
 *
 * Text goes in with textContent only (labels come from result files). The box is moved with
 * CSSOM (`style.transform`), which CSP allows; a `style="…"` attribute would be blocked by
 * the panel's nonce-only style-src.
 */

export type TooltipRow = readonly [label: string, value: string];

export interface Tooltip {
  /** Shows rows next to the pointer; `event` gives the position. */
  show(event: MouseEvent, rows: ReadonlyArray<TooltipRow>): void;
  hide(): void;
  remove(): void;
}

export function createTooltip(container: HTMLElement): Tooltip {
  const box = document.createElement('div');
  box.className = 'lc-tooltip';
  box.setAttribute('role', 'status');
  box.hidden = true;
  container.appendChild(box);
  return {
    show(event, rows) {
      box.replaceChildren(
        ...rows.map(([label, value]) => {
          const line = document.createElement('div');
          const k = document.createElement('span');
          k.className = 'lc-tooltip-key';
          k.textContent = label;
          const v = document.createElement('span');
          v.className = 'lc-tooltip-value';
          v.textContent = value;
          line.append(k, v);
          return line;
        }),
      );
      box.hidden = false;
      const area = container.getBoundingClientRect();
      const x = event.clientX - area.left;
      const y = event.clientY - area.top;
      // Flip to the other side of the pointer near the right/bottom edge, to stay visible.
      const left = x + 14 + box.offsetWidth > area.width ? x - 14 - box.offsetWidth : x + 14;
      const top = y + 14 + box.offsetHeight > area.height ? y - 14 - box.offsetHeight : y + 14;
      box.style.transform = `translate(${Math.max(0, left)}px, ${Math.max(0, top)}px)`;
    },
    hide() {
      box.hidden = true;
    },
    remove() {
      box.remove();
    },
  };
}
