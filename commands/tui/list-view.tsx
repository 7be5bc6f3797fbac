import {Box, Text, useInput} from 'ink'
import {useState} from 'react'
import {fitLine, moveCursor, visibleWindow} from './text.js'

/** The cursor of a list, moved by ↑/↓, j/k, PgUp/PgDn, Home/End while the pane is active. */
export function useCursor(length: number, page: number, isActive: boolean): [number, (cursor: number) => void] {
  const [cursor, setCursor] = useState(0)
  useInput(
    (input, key) => {
      if (key.upArrow || input === 'k') setCursor((current) => moveCursor(current, -1, length))
      else if (key.downArrow || input === 'j') setCursor((current) => moveCursor(current, 1, length))
      else if (key.pageUp) setCursor((current) => moveCursor(current, -page, length))
      else if (key.pageDown) setCursor((current) => moveCursor(current, page, length))
      else if (key.home) setCursor(0)
      else if (key.end) setCursor(Math.max(0, length - 1))
    },
    {isActive},
  )
  return [moveCursor(cursor, 0, length), setCursor]
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
