import {Box, Text, useApp, useInput, useStdout} from 'ink'
import {useEffect, useState} from 'react'
import type {Actor} from '../../src/access/principal.js'
import type {Core} from '../../src/core.js'
import type {OrganizationSummary} from '../../src/tenancy/org-service.js'
import {AuditPane} from './audit-pane.js'
import {FlagsPane} from './flags-pane.js'
import {HelpView} from './help-view.js'
import {footerHint, PANE_TITLES, PANES, paneAfter, paneOfKey, type PaneName} from './keys.js'
import {MembersPane} from './members-pane.js'
import {OrgsPane} from './orgs-pane.js'
import type {PaneUi} from './pane-ui.js'
import {ConfirmLine, PromptLine} from './prompt-line.js'
import {RolesPane} from './roles-pane.js'
import {describeError, fitLine, wrapText} from './text.js'

export interface TuiAppProps {
  core: Core
  /** Who acts: the operator, as the CLI's commands name them, so the audit trail is the same. */
  actor: Actor
  /** False under NO_COLOR: no colour and no other styling escapes (bold, inverse). */
  color?: boolean
  /** Fixed size (tests); by default the terminal's, following resizes. */
  columns?: number
  rows?: number
}

type Overlay =
  | {kind: 'help'}
  | {kind: 'prompt'; label: string; initial: string; resolve: (value: string | null) => void}
  | {kind: 'confirm'; question: string; resolve: (isConfirmed: boolean) => void}
  | null

/** Smallest layout the TUI is made for (a default SSH terminal); a smaller one still renders, truncated. */
const MIN_COLUMNS = 40
const MIN_ROWS = 10
/** Room for an error's code and message (80 columns cut most messages at one line). */
const STATUS_LINES = 2

function useTerminalSize(columns?: number, rows?: number): {columns: number; rows: number} {
  const {stdout} = useStdout()
  const read = () => ({columns: stdout.columns || 80, rows: stdout.rows || 24})
  const [size, setSize] = useState(read)
  useEffect(() => {
    const onResize = () => setSize(read())
    stdout.on('resize', onResize)
    return () => {
      stdout.off('resize', onResize)
    }
  }, [stdout])
  // One column short of the edge: a full-width line makes some terminals wrap.
  return {columns: Math.max(MIN_COLUMNS, (columns ?? size.columns) - 1), rows: Math.max(MIN_ROWS, rows ?? size.rows)}
}

/** The operator's TUI: panes for orgs, members, roles, flags and a live audit tail, over the core's services. */
export function TuiApp({core, actor, color = true, columns, rows}: TuiAppProps) {
  const {exit} = useApp()
  const size = useTerminalSize(columns, rows)
  const width = size.columns
  const [pane, setPane] = useState<PaneName>('orgs')
  const [org, setOrg] = useState<OrganizationSummary | null>(null)
  const [overlay, setOverlay] = useState<Overlay>(null)
  const [status, setStatus] = useState<{text: string; isError: boolean} | null>(null)

  useInput(
    (input, key) => {
      if (input === 'q') exit()
      else if (input === '?') setOverlay({kind: 'help'})
      else if (key.tab) setPane((current) => paneAfter(current, key.shift ? -1 : 1))
      else {
        const chosen = paneOfKey(input)
        if (chosen) setPane(chosen)
      }
    },
    {isActive: overlay === null},
  )
  useInput(
    (input, key) => {
      if (key.escape || input === '?' || input === 'q') setOverlay(null)
    },
    {isActive: overlay?.kind === 'help'},
  )

  // Body: everything between the tab line and the two status lines and the footer (one row spare).
  const bodyHeight = size.rows - STATUS_LINES - 3
  const ui: PaneUi = {
    core,
    actor,
    width,
    height: bodyHeight,
    color,
    isActive: overlay === null,
    org,
    ask: (label, initial = '') => new Promise((resolve) => setOverlay({kind: 'prompt', label, initial, resolve})),
    confirm: (question) => new Promise((resolve) => setOverlay({kind: 'confirm', question, resolve})),
    notify: (text) => setStatus({text, isError: false}),
    async run(action, success) {
      try {
        const result = await action()
        setStatus(success ? {text: success(result), isError: false} : null)
        return result
      } catch (error) {
        setStatus({text: `Error ${describeError(error)}`, isError: true})
        return undefined
      }
    },
  }

  const tabs = PANES.map((name, index) => (name === pane ? `[${index + 1} ${PANE_TITLES[name]}]` : ` ${index + 1} ${PANE_TITLES[name]} `)).join('')
  const header = `saas-ctl ${tabs}  org: ${org ? org.slug : '-'}`
  const paneProps = {ui: {...ui, isActive: ui.isActive && overlay === null}}
  return (
    <Box flexDirection="column" width={width}>
      <Text bold={color} color={color ? 'cyan' : undefined} wrap="truncate">
        {fitLine(header, width)}
      </Text>
      <Box flexDirection="column" height={bodyHeight} overflow="hidden">
        {overlay?.kind === 'help' ? <HelpView pane={pane} width={width} height={bodyHeight} color={color} /> : null}
        <Box display={overlay?.kind === 'help' ? 'none' : 'flex'} flexDirection="column">
          {/* The Orgs pane stays mounted (hidden) so its cursor, search and selected org survive pane switches. */}
          <Box display={pane === 'orgs' ? 'flex' : 'none'} flexDirection="column">
            <OrgsPane ui={{...paneProps.ui, isActive: paneProps.ui.isActive && pane === 'orgs'}} isShown={pane === 'orgs' && overlay?.kind !== 'help'} onSelect={setOrg} onOpen={() => setPane('members')} />
          </Box>
          {pane === 'members' ? <MembersPane {...paneProps} /> : null}
          {pane === 'roles' ? <RolesPane {...paneProps} /> : null}
          {pane === 'flags' ? <FlagsPane {...paneProps} /> : null}
          {pane === 'audit' ? <AuditPane {...paneProps} /> : null}
        </Box>
      </Box>
      {overlay?.kind === 'prompt' ? (
        <PromptLine
          key={overlay.label}
          label={overlay.label}
          initial={overlay.initial}
          width={width}
          color={color}
          onDone={(value) => {
            setOverlay(null)
            overlay.resolve(value)
          }}
        />
      ) : overlay?.kind === 'confirm' ? (
        <ConfirmLine
          question={overlay.question}
          width={width}
          onDone={(isConfirmed) => {
            setOverlay(null)
            if (!isConfirmed) setStatus({text: 'Cancelled', isError: false})
            overlay.resolve(isConfirmed)
          }}
        />
      ) : null}
      <Box flexDirection="column" height={overlay?.kind === 'prompt' || overlay?.kind === 'confirm' ? STATUS_LINES - 1 : STATUS_LINES}>
        {wrapText(status?.text ?? '', width, overlay?.kind === 'prompt' || overlay?.kind === 'confirm' ? STATUS_LINES - 1 : STATUS_LINES).map((line, index) => (
          <Text key={index} color={color && status?.isError ? 'red' : undefined} wrap="truncate">
            {line}
          </Text>
        ))}
      </Box>
      <Text dimColor={color} wrap="truncate">
        {fitLine(overlay?.kind === 'help' ? 'Esc or ? closes the help' : footerHint(pane), width)}
      </Text>
    </Box>
  )
}
