import {Box, Text} from 'ink'
import {useRef, useState} from 'react'
import type {KeyHandler} from './input.js'
import {fitLine, moveCursor, visibleWindow} from './text.js'

export interface Cursor {
  /** The row under the cursor (its index in the rows as last drawn). */
  index: number
  /** The index now, for a key handled before the next draw (several keys in one read). */
  currentIndex(): number
  /** ↑/↓, j/k, PgUp/PgDn, Home/End; true when the key moved the cursor. */
  handleKey: KeyHandler
  /** Puts the cursor on the row of this key (once the rows hold it); null: on the first row. */
  select(key: string | null): void
}

/**
 * The cursor of a list, kept on a row by its key (an org's id, a role's key), not by its
 * position: when the list is read again and rows come or go above it, the cursor stays on
 * the same row. A row that is gone leaves the cursor at the same position.
 */
export function useCursor<Row>(rows: readonly Row[], page: number, keyOf: (row: Row) => string): Cursor {
  const [selected, setSelected] = useState<string | null>(null)
  const selectedRef = useRef<string | null>(null)
  const lastIndexRef = useRef(0)
  const rowsRef = useRef(rows)
  rowsRef.current = rows
  const indexIn = (list: readonly Row[], key: string | null) => {
    const found = key === null ? -1 : list.findIndex((row) => keyOf(row) === key)
    return found >= 0 ? found : moveCursor(lastIndexRef.current, 0, list.length)
  }
  const index = indexIn(rows, selected)
  lastIndexRef.current = index

  function select(key: string | null) {
    if (key === null) lastIndexRef.current = 0
    selectedRef.current = key
    setSelected(key)
  }
  function moveTo(target: number) {
    const list = rowsRef.current
    const next = moveCursor(target, 0, list.length)
    lastIndexRef.current = next
    select(list[next] === undefined ? null : keyOf(list[next]!))
  }
  const currentIndex = () => indexIn(rowsRef.current, selectedRef.current)
  const handleKey: KeyHandler = (input, key) => {
    const now = currentIndex()
    if (key.upArrow || input === 'k') moveTo(now - 1)
    else if (key.downArrow || input === 'j') moveTo(now + 1)
    else if (key.pageUp) moveTo(now - page)
    else if (key.pageDown) moveTo(now + page)
    else if (key.home) moveTo(0)
    else if (key.end) moveTo(rowsRef.current.length - 1)
    else return false
    return true
  }
  return {index, currentIndex, handleKey, select}
}

interface ListViewProps {
  header: string
  rows: string[]
  cursor: number
  width: number
  /** Rows for the list, its header included. */
  height: number
  color: boolean
  empty: string
}

/** A header and a window of rows around the cursor; the cursor row is marked with `>` (and inverse in colour). */
export function ListView({header, rows, cursor, width, height, color, empty}: ListViewProps) {
  const room = Math.max(1, height - 1)
  const {start, end} = visibleWindow(rows.length, cursor, room)
  return (
    <Box flexDirection="column">
      <Text bold={color} wrap="truncate">{fitLine(`  ${header}`, width)}</Text>
      {rows.length === 0 ? <Text wrap="truncate">{fitLine(`  ${empty}`, width)}</Text> : null}
      {rows.slice(start, end).map((row, offset) => {
        const index = start + offset
        const isCursor = index === cursor
        return (
          <Text key={index} inverse={color && isCursor} wrap="truncate">
            {fitLine(`${isCursor ? '>' : ' '} ${row}`, width)}
          </Text>
        )
      })}
    </Box>
  )
}
