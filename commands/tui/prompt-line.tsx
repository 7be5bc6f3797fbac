import {Text} from 'ink'
import {displayWidth, fitEnd, fitLine, printable} from './text.js'

interface PromptLineProps {
  label: string
  value: string
  width: number
  color: boolean
}

/**
 * The line of a prompt under the pane (the app's input handler edits its value). The line
 * never wraps: a long value shows its end, where the typing is.
 */
export function PromptLine({label, value, width, color}: PromptLineProps) {
  const shownLabel = displayWidth(printable(label)) > width - 12 ? fitLine(label, width - 12) : printable(label)
  const room = Math.max(1, width - displayWidth(shownLabel) - 2)
  return (
    <Text wrap="truncate">
      {`${shownLabel} ${fitEnd(value, room)}`}
      {/* The cursor: inverse video in colour, a plain _ under NO_COLOR. */}
      {color ? <Text inverse> </Text> : '_'}
    </Text>
  )
}

/** A destructive action's question: y confirms, any other key cancels. */
export function ConfirmLine({question, width}: {question: string; width: number}) {
  return <Text wrap="truncate">{fitLine(`${question} [y/N]`, width)}</Text>
}
