/**
 * Text for people: aligned columns and key/value blocks. Values come from upstream servers, so
 * control characters (an escape sequence in a username) are shown escaped, never sent to the terminal.
 */

/** A cell's text: null and undefined as "-", control characters as \u escapes. */
export function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  const text = Array.isArray(value) ? value.join(',') : typeof value === 'object' ? JSON.stringify(value) : String(value);
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Columns padded to their widest cell, two spaces apart; the last column is not padded.
 *
 * @example formatTable(['ID', 'NAME'], [['1', 'alice']]) // "ID  NAME\n1   alice\n"
 */
export function formatTable(headers: string[], rows: unknown[][]): string {
  const cells = [headers, ...rows.map((row) => row.map(cell))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return cells
    .map((row) => row.map((text, i) => (i === row.length - 1 ? text : text.padEnd(widths[i] ?? 0))).join('  ').trimEnd())
    .join('\n') + '\n';
}

/**
 * One `key  value` line per entry, keys aligned.
 *
 * @example formatFields([['id', '3'], ['username', 'alice']]) // "id        3\nusername  alice\n"
 */
export function formatFields(entries: Array<[string, unknown]>): string {
  const width = Math.max(...entries.map(([key]) => key.length));
  return entries.map(([key, value]) => `${key.padEnd(width)}  ${cell(value)}`).join('\n') + '\n';
}
