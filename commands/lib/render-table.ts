import {CONTROL_CHARACTERS} from '../../src/shared/display-text.js'

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

// C0 and C1 controls, DEL and the bidi embeddings, overrides and isolates: a name holding
// them (stored before names refused them, or by another writer) could move the cursor,
// recolour or rewrite the terminal, or reorder the line. Shown as \u escapes instead.
const ALL_CONTROL_CHARACTERS = new RegExp(CONTROL_CHARACTERS.source, 'g')

/** The text with every control character written as a visible `\uXXXX` escape. */
export function escapeControlCharacters(text: string): string {
  return text.replace(ALL_CONTROL_CHARACTERS, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
