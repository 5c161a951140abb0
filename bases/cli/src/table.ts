// Plain-text tables for the terminal: left-aligned text, right-aligned numbers, nulls as empty cells.

export function renderTable(columns: string[], rows: unknown[][]): string {
  const cells = rows.map((row) => columns.map((_, i) => cell(row[i])));
  const widths = columns.map((name, i) => Math.max(name.length, ...cells.map((r) => r[i]!.length)));
  const numeric = columns.map((_, i) => rows.length > 0 && rows.every((r) => r[i] === null || typeof r[i] === 'number' || typeof r[i] === 'bigint'));
  const line = (values: string[]) => values.map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toPrecision(6).replace(/\.?0+$/, '');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
