import {Box, Text} from 'ink'
import {GLOBAL_KEYS, PANE_KEYS, PANE_TITLES, type PaneName} from './keys.js'
import {column, fitLine} from './text.js'

/** The keys of the TUI and of the current pane (`?`). */
export function HelpView({pane, width, height, color}: {pane: PaneName; width: number; height: number; color: boolean}) {
  const lines: {text: string; isTitle?: boolean}[] = [
    {text: 'Keys everywhere', isTitle: true},
    ...GLOBAL_KEYS.map(([key, what]) => ({text: `  ${column(key, 12)} ${what}`})),
    {text: ''},
    {text: `Keys of the ${PANE_TITLES[pane]} pane`, isTitle: true},
    ...PANE_KEYS[pane].map(([key, , what]) => ({text: `  ${column(key, 12)} ${what}`})),
    {text: ''},
    {text: 'Members, Roles and Flags work on the organization under the cursor in Orgs.'},
    {text: 'Every action is the CLI\'s: same services, same audit events.'},
  ]
  return (
    <Box flexDirection="column">
      {lines.slice(0, height).map((line, index) => (
        <Text key={index} bold={color && line.isTitle} wrap="truncate">
          {fitLine(line.text, width)}
        </Text>
      ))}
    </Box>
  )
}
