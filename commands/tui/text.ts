import {translateDatabaseError} from '../../src/db/database-errors.js'
import {isDomainError} from '../../src/errors/domain-error.js'

/** Cuts a line to a width (an ellipsis marks the cut) and pads it, so every row of a pane fits the terminal. */
export function fitLine(text: string, width: number): string {
  const flat = text.replaceAll(/[\r\n\t]+/g, ' ')
  if (width <= 0) return ''
  if (flat.length <= width) return flat.padEnd(width)
  return `${flat.slice(0, Math.max(0, width - 1))}…`
}

/** A column of a row: cut or padded to exactly `width` characters. */
export function column(text: string | number | null | undefined, width: number): string {
  const value = text === null || text === undefined || text === '' ? '-' : String(text)
  return value.length > width ? `${value.slice(0, Math.max(0, width - 1))}…` : value.padEnd(width)
}

/**
 * What an operator reads when an action fails: the DomainError's code and message (as the CLI's
 * one stderr line has them, code first so a cut line keeps it). Anything else is an internal
 * error, named but never thrown.
 */
export function describeError(error: unknown): string {
  const translated = error instanceof Error ? (translateDatabaseError(error) ?? error) : error
  if (isDomainError(translated)) return `[${translated.code}] ${translated.message}`
  const message = translated instanceof Error ? translated.message : String(translated)
  return `[internal.error] ${message}`
}

/** Text broken at spaces into at most `maxLines` lines of `width` (the last one cut with an ellipsis). */
export function wrapText(text: string, width: number, maxLines: number): string[] {
  const lines: string[] = []
  let rest = text.replaceAll(/\s+/g, ' ').trim()
  while (rest && lines.length < maxLines - 1 && rest.length > width) {
    const space = rest.lastIndexOf(' ', width)
    const cut = space > width / 2 ? space : width
    lines.push(rest.slice(0, cut))
    rest = rest.slice(cut).trimStart()
  }
  if (rest) lines.push(rest)
  return lines.map((line) => fitLine(line, width))
}

/** The first `count` rows of a list that keep the cursor in view. */
export function visibleWindow(length: number, cursor: number, count: number): {start: number; end: number} {
  if (length <= count) return {start: 0, end: length}
  const start = Math.min(Math.max(0, cursor - Math.floor(count / 2)), length - count)
  return {start, end: start + count}
}

/** A cursor moved by `delta` and kept inside a list of `length`. */
export function moveCursor(cursor: number, delta: number, length: number): number {
  if (length === 0) return 0
  return Math.min(Math.max(0, cursor + delta), length - 1)
}

/** Text wrapped at commas/spaces into lines of at most `width`, at most `maxLines` (the last one marks a cut). */
export function wrapWords(words: string[], width: number, maxLines: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of words) {
    const next = line ? `${line}, ${word}` : word
    if (next.length > width && line) {
      lines.push(`${line},`)
      line = word
    } else line = next
  }
  if (line) lines.push(line)
  if (lines.length <= maxLines) return lines.map((text) => fitLine(text, width))
  const kept = lines.slice(0, maxLines)
  kept[maxLines - 1] = fitLine(`${kept[maxLines - 1]} … (+${lines.length - maxLines} more lines)`, width)
  return kept.map((text) => fitLine(text, width))
}
