import {escapeControlCharacters} from '../../src/shared/display-text.js'

export interface Column<Row> {
  header: string
  value: (row: Row) => unknown
}

/** Aligned plain-text columns, for human output; `--json` carries the same rows. */
export function renderTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  if (rows.length === 0) return '(none)'
  const cells = rows.map((row) => columns.map((column) => formatCell(column.value(row))))
  const widths = columns.map((column, index) => Math.max(column.header.length, ...cells.map((line) => line[index]!.length)))
  const formatLine = (line: string[]) => line.map((cell, index) => cell.padEnd(widths[index]!)).join('  ').trimEnd()
  return [formatLine(columns.map((column) => column.header.toUpperCase())), ...cells.map(formatLine)].join('\n')
}

/** Label: value lines, for one record. */
export function renderRecord(fields: readonly [string, unknown][]): string {
  const width = Math.max(...fields.map(([label]) => label.length))
  return fields.map(([label, value]) => `${`${label}:`.padEnd(width + 1)} ${formatCell(value)}`).join('\n')
}

function formatCell(value: unknown): string {
  return escapeControlCharacters(formatValue(value))
}

function formatValue(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-'
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.join(',')
  if (typeof value === 'boolean') return value ? 'yes' : 'no'
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

// Defined beside CONTROL_CHARACTERS (src/shared/display-text.ts): src/ escapes with it too.
export {escapeControlCharacters}
