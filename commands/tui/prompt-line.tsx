import {Box, Text, useInput} from 'ink'
import TextInput from 'ink-text-input'
import {useState} from 'react'
import {fitLine} from './text.js'

interface PromptLineProps {
  label: string
  initial: string
  width: number
  color: boolean
  onDone: (value: string | null) => void
}

/** One line of input under the pane: Enter submits, Esc cancels. */
export function PromptLine({label, initial, width, color, onDone}: PromptLineProps) {
  const [value, setValue] = useState(initial)
  useInput((_input, key) => {
    if (key.escape) onDone(null)
  })
  const room = Math.max(10, width - label.length - 1)
  // Long input scrolls: only its end is shown, so the line never wraps past the terminal's width.
  return (
    <Box width={width}>
      <Text wrap="truncate">{label.length + 1 < width ? `${label} ` : fitLine(label, width - 10)}</Text>
      <Box width={room}>
        {/* ink-text-input draws its cursor in inverse video: under NO_COLOR a plain _ marks the end instead. */}
        <TextInput value={value} onChange={setValue} onSubmit={(submitted) => onDone(submitted)} showCursor={color} />
        {color ? null : <Text>_</Text>}
      </Box>
    </Box>
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
