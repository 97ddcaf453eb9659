/**
 * Small form controls for panel toolbars. Listeners are attached with addEventListener:
 * inline handler attributes would be refused by the CSP.
 */

export interface Segmented<T extends string> {
  el: HTMLElement;
  set(value: T): void;
}

/** A group of toggle buttons with one pressed (aria-pressed), like a segmented control. */
export function segmented<T extends string>(
  label: string,
  options: ReadonlyArray<{ value: T; text: string; title?: string }>,
  current: T,
  onChange: (value: T) => void,
): Segmented<T> {
  const group = document.createElement('div');
  group.className = 'lc-segmented';
  group.setAttribute('role', 'group');
  group.setAttribute('aria-label', label);
  const buttons = options.map((o) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = o.text;
    b.dataset.value = o.value;
    if (o.title) b.title = o.title;
    b.addEventListener('click', () => {
      set(o.value);
      onChange(o.value);
    });
    group.appendChild(b);
    return b;
  });
  const set = (value: T): void => {
    for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset.value === value));
  };
  set(current);
  return { el: group, set };
}

export function button(text: string, title: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'lc-button';
  b.textContent = text;
  b.title = title;
  b.addEventListener('click', onClick);
  return b;
}

export function slider(label: string, min: number, max: number, value: number, onInput: (v: number) => void): HTMLLabelElement {
  const wrap = document.createElement('label');
  wrap.className = 'lc-slider';
  const text = document.createElement('span');
  text.textContent = label;
  const input = document.createElement('input');
  input.type = 'range';
  input.min = String(min);
  input.max = String(max);
  input.value = String(value);
  input.addEventListener('input', () => onInput(Number(input.value)));
  wrap.append(text, input);
  return wrap;
}

/** A labelled cluster of controls in a toolbar. */
export function toolGroup(label: string | null, ...children: HTMLElement[]): HTMLElement {
  const g = document.createElement('div');
  g.className = 'lc-toolgroup';
  if (label) {
    const l = document.createElement('span');
    l.className = 'lc-toolgroup-label';
    l.textContent = label;
    g.appendChild(l);
  }
  g.append(...children);
  return g;
}
