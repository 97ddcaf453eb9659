/**
 * A small HTML table for numbers beside a chart (the sharpness measures, eigenpairs, the most
 * salient parameters): a caption, a header with definitions on hover (`title`), numeric
 * columns right-aligned in tabular figures.
 *
 *   dataTable(container, { caption, columns: [{ label, numeric, title }], rows: [[…], …] })
 *
 * Text goes in with textContent only: labels come from result files.
 */

export interface Column {
  label: string;
  /** Right-aligned, tabular figures. */
  numeric?: boolean;
  /** Shown on hover: what the column means. */
  title?: string;
}

/** A cell: text, or text with a hover title (e.g. the definition of a measure). */
export type Cell = string | { text: string; title?: string; className?: string };

export interface TableData {
  caption?: string;
  columns: ReadonlyArray<Column>;
  rows: ReadonlyArray<ReadonlyArray<Cell>>;
  /** Hover title per row (e.g. a definition). */
  rowTitles?: ReadonlyArray<string | undefined>;
  className?: string;
}

export function dataTable(container: HTMLElement, data: TableData): HTMLTableElement {
  const table = document.createElement('table');
  table.className = ['lc-table', data.className].filter(Boolean).join(' ');
  if (data.caption) {
    const cap = document.createElement('caption');
    cap.textContent = data.caption;
    table.appendChild(cap);
  }
  const thead = table.createTHead();
  const hr = thead.insertRow();
  for (const c of data.columns) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = c.label;
    if (c.numeric) th.className = 'lc-num';
    if (c.title) {
      th.title = c.title;
      th.classList.add('lc-has-title');
    }
    hr.appendChild(th);
  }
  const tbody = table.createTBody();
  data.rows.forEach((row, r) => {
    const tr = tbody.insertRow();
    const rowTitle = data.rowTitles?.[r];
    if (rowTitle) tr.title = rowTitle;
    row.forEach((cell, i) => {
      const td = tr.insertCell();
      const c = typeof cell === 'string' ? { text: cell } : cell;
      td.textContent = c.text;
      if (data.columns[i]?.numeric) td.classList.add('lc-num');
      if (c.className) td.classList.add(...c.className.split(' '));
      if (c.title) {
        td.title = c.title;
        td.classList.add('lc-has-title');
      }
    });
  });
  container.appendChild(table);
  return table;
}
