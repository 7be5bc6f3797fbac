import {Text, useInput} from 'ink'
import {useState} from 'react'
import {fitLine} from './text.js'

interface PromptLineProps {
  label: string
  initial: string
  width: number
  color: boolean
  onDone: (value: string | null) => void
}

/** Control characters (and escape sequences such as arrows) are not text. */
const CONTROL = /\u001B\[[0-9;]*[A-Za-z~]|[\u0000-\u001F\u007F]/g

/**
 * One line of input under the pane: Enter submits, Esc cancels, Backspace deletes. The line never
 * wraps: a long value shows its end, where the typing is.
 */
export function PromptLine({label, initial, width, color, onDone}: PromptLineProps) {
  const [value, setValue] = useState(initial)
  useInput((input, key) => {
    if (key.escape) onDone(null)
    else if (key.return) onDone(value)
    else if (key.backspace || key.delete) setValue((current) => current.slice(0, -1))
    else if (!key.ctrl && !key.meta && !key.upArrow && !key.downArrow && !key.tab) setValue((current) => current + input.replaceAll(CONTROL, ''))
  })
  const shownLabel = label.length > width - 12 ? `${label.slice(0, width - 13)}…` : label
  const room = Math.max(1, width - shownLabel.length - 2)
  const shownValue = value.length > room ? `…${value.slice(value.length - room + 1)}` : value
  return (
    <Text wrap="truncate">
      {`${shownLabel} ${shownValue}`}
      {/* The cursor: inverse video in colour, a plain _ under NO_COLOR. */}
      {color ? <Text inverse> </Text> : '_'}
    </Text>
  )
}

interface ConfirmLineProps {
  question: string
  width: number
  onDone: (isConfirmed: boolean) => void
}

/** A destructive action's question: y confirms, any other key cancels. */
export function ConfirmLine({question, width, onDone}: ConfirmLineProps) {
  useInput((input) => onDone(input === 'y' || input === 'Y'))
  return <Text wrap="truncate">{fitLine(`${question} [y/N]`, width)}</Text>
}
