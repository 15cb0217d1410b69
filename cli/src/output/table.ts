/**
 * Plain-text tables for terminals: one header row, columns separated by two
 * spaces, each as wide as its widest cell (up to a cap, past which a cell is
 * cut with "…"). No box drawing, so output stays greppable; a cell may be
 * coloured (output/colour.ts: only on a terminal), which takes no width.
 */

export interface Column {
  readonly header: string;
  /** Numbers read best right-aligned. @defaultValue 'left' */
  readonly align?: 'left' | 'right';
  /** Longest cell shown; longer ones end in "…". @defaultValue unlimited */
  readonly maxWidth?: number;
}

/** The table as lines: the header, then one line per row. Trailing spaces are trimmed. */
export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
): string[] {
  const cells = [columns.map((c) => c.header), ...rows].map((row) =>
    columns.map((column, i) => clip(oneLine(row[i] ?? ''), column.maxWidth)),
  );
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => width(row[i] ?? ''))));
  return cells.map((row) =>
    row
      .map((cell, i) => pad(cell, widths[i] ?? 0, columns[i]?.align ?? 'left'))
      .join('  ')
      .trimEnd(),
  );
}

/** Cuts `text` to `max` characters, the last being "…". */
export function clip(text: string, max: number | undefined): string {
  if (max === undefined || width(text) <= max) return text;
  return `${[...text].slice(0, Math.max(0, max - 1)).join('')}…`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

/** SGR escape sequences (colours): they take no column. */
// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;]*m/g;

/** Width in code points, so "…" and "é" count as one column; colour codes count as none. */
function width(text: string): number {
  return [...text.replace(SGR, '')].length;
}

function pad(text: string, to: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, to - width(text)));
  return align === 'right' ? fill + text : text + fill;
}
