import stringWidth from 'string-width'
import {translateDatabaseError} from '../../src/db/database-errors.js'
import {isDomainError} from '../../src/errors/domain-error.js'
import {escapeControlCharacters} from '../../src/shared/display-text.js'

const graphemes = new Intl.Segmenter(undefined, {granularity: 'grapheme'})

/**
 * Text as it may reach the terminal: tabs and line breaks become spaces, and every other
 * control character (ESC, BS, OSC's BEL, C1, bidi overrides) a visible `\uXXXX` escape, so
 * tenant-controlled text (an API key's name, a legacy org name) cannot move the cursor,
 * recolour the screen, set the title or the clipboard. Idempotent.
 */
export function printable(text: string): string {
  return escapeControlCharacters(text.replaceAll(/[\r\n\t]+/g, ' '))
}

/** Columns the text takes on a terminal: CJK and most emoji take two, combining marks none. */
export function displayWidth(text: string): number {
  return stringWidth(text)
}

/** The longest start of the text (whole graphemes) that takes at most `width` columns, and its width. */
function cutToWidth(text: string, width: number): {text: string; width: number} {
  let cut = ''
  let used = 0
  for (const {segment} of graphemes.segment(text)) {
    const next = stringWidth(segment)
    if (used + next > width) break
    cut += segment
    used += next
  }
  return {text: cut, width: used}
}

/**
 * The one cell helper every pane draws with: the text made printable, cut at a grapheme
 * boundary to `width` columns (an ellipsis marks the cut) and padded to exactly `width` columns.
 */
export function fitLine(text: string, width: number): string {
  if (width <= 0) return ''
  const safe = printable(text)
  const full = displayWidth(safe)
  if (full <= width) return safe + ' '.repeat(width - full)
  const cut = cutToWidth(safe, width - 1)
  return `${cut.text}…${' '.repeat(width - 1 - cut.width)}`
}

/** A column of a row: printable, cut or padded to exactly `width` columns ('-' when empty). */
export function column(text: string | number | null | undefined, width: number): string {
  return fitLine(text === null || text === undefined || text === '' ? '-' : String(text), width)
}

/** The end of a text that fits `width` columns (an ellipsis first marks the cut): where the typing is in a prompt. */
export function fitEnd(text: string, width: number): string {
  const safe = printable(text)
  if (displayWidth(safe) <= width) return safe
  const reversed = [...graphemes.segment(safe)].map(({segment}) => segment).reverse()
  let kept = ''
  let used = 0
  for (const segment of reversed) {
    const next = stringWidth(segment)
    if (used + next > width - 1) break
    kept = segment + kept
    used += next
  }
  return `…${kept}`
}

/** Text broken into lines of exactly `width` columns, breaking long words (a link) anywhere; nothing is cut. */
export function wrapAll(text: string, width: number): string[] {
  const lines: string[] = []
  for (const paragraph of text.split(/\r?\n/)) {
    let rest = printable(paragraph).trim()
    if (!rest) lines.push('')
    while (rest) {
      const cut = cutToWidth(rest, width)
      const space = cut.text.length < rest.length ? cut.text.lastIndexOf(' ') : -1
      const line = space > cut.text.length / 2 ? cut.text.slice(0, space) : cut.text || rest.slice(0, 1)
      lines.push(line)
      rest = rest.slice(line.length).trimStart()
    }
  }
  return lines.map((line) => fitLine(line, width))
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

/** Text broken at spaces into at most `maxLines` lines of `width` columns (the last one cut with an ellipsis). */
export function wrapText(text: string, width: number, maxLines: number): string[] {
  const lines: string[] = []
  let rest = printable(text.replaceAll(/\s+/g, ' ')).trim()
  while (rest && lines.length < maxLines - 1 && displayWidth(rest) > width) {
    const cut = cutToWidth(rest, width).text
    const space = cut.lastIndexOf(' ')
    const line = space > cut.length / 2 ? cut.slice(0, space) : cut || rest.slice(0, 1)
    lines.push(line)
    rest = rest.slice(line.length).trimStart()
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
    if (displayWidth(next) > width && line) {
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
