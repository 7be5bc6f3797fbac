import {Box, Text, useApp, useStdin, useStdout} from 'ink'
import {useEffect, useReducer, useRef, useState} from 'react'
import type {Actor} from '../../src/access/principal.js'
import type {Core} from '../../src/core.js'
import {CONTROL_CHARACTERS} from '../../src/shared/display-text.js'
import type {OrganizationSummary} from '../../src/tenancy/org-service.js'
import {AuditPane, NO_FILTERS, type AuditFilters} from './audit-pane.js'
import {FlagsPane} from './flags-pane.js'
import {HelpView} from './help-view.js'
import {parseKeys, type KeyHandler, type KeyPress} from './input.js'
import {footerHint, PANE_TITLES, PANES, paneAfter, paneOfKey, type PaneName} from './keys.js'
import {MembersPane} from './members-pane.js'
import {OrgsPane} from './orgs-pane.js'
import type {PaneUi} from './pane-ui.js'
import {ConfirmLine, PromptLine} from './prompt-line.js'
import {RolesPane} from './roles-pane.js'
import {describeError, fitLine, wrapAll, wrapText} from './text.js'

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

interface PromptOverlay {
  kind: 'prompt'
  label: string
  /** Edited in place by the input handler (several keys of one read come before the next draw). */
  value: string
  resolve: (value: string | null) => void
}
interface ConfirmOverlay {
  kind: 'confirm'
  question: string
  resolve: (isConfirmed: boolean) => void
}
type Overlay = {kind: 'help'} | {kind: 'message'; text: string} | PromptOverlay | ConfirmOverlay | null

/** Smallest layout the TUI is made for (a default SSH terminal); a smaller one still renders, truncated. */
const MIN_COLUMNS = 40
const MIN_ROWS = 10
/** Room for an error's code and message (80 columns cut most messages at one line). */
const STATUS_LINES = 2
/** What a prompt may not take from the keys: control characters (C0, C1, DEL, bidi overrides). */
const NOT_TEXT = new RegExp(CONTROL_CHARACTERS.source, 'g')
const graphemes = new Intl.Segmenter(undefined, {granularity: 'grapheme'})

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

/**
 * All keys come through here, one handler that is never switched off: Ink applies a
 * useInput's isActive in an effect after the draw, so a key arriving right after the one that
 * opened a prompt would still reach the pane. The prompt or question a pane opens takes the
 * keys from the moment ask/confirm is called (refs, not state), and the keys of one read are
 * handled one at a time, each after what the previous one started (the next prompt of a
 * flow, a draw) has run.
 */
function useKeys(handle: (press: KeyPress) => void): void {
  const {internal_eventEmitter: events, setRawMode} = useStdin()
  const handleRef = useRef(handle)
  handleRef.current = handle
  const setRawModeRef = useRef(setRawMode)
  setRawModeRef.current = setRawMode
  // Subscribed once for the app's life (the queue must survive re-renders).
  useEffect(() => {
    const queue: KeyPress[] = []
    let isDraining = false
    let isMounted = true
    async function drain() {
      if (isDraining) return
      isDraining = true
      while (isMounted && queue.length > 0) {
        handleRef.current(queue.shift()!)
        // What the key started runs first: a flow awaiting the prompt just closed opens its next one.
        await new Promise((resolve) => setImmediate(resolve))
      }
      isDraining = false
    }
    const onInput = (raw: string) => {
      queue.push(...parseKeys(raw))
      void drain()
    }
    setRawModeRef.current(true)
    events.on('input', onInput)
    return () => {
      isMounted = false
      events.removeListener('input', onInput)
      setRawModeRef.current(false)
    }
  }, [events])
}

/** The operator's TUI: panes for orgs, members, roles, flags and a live audit tail, over the core's services. */
export function TuiApp({core, actor, color = true, columns, rows}: TuiAppProps) {
  const {exit} = useApp()
  const size = useTerminalSize(columns, rows)
  const width = size.columns
  const [pane, setPaneState] = useState<PaneName>('orgs')
  const paneRef = useRef<PaneName>('orgs')
  const [org, setOrg] = useState<OrganizationSummary | null>(null)
  const [overlay, setOverlayState] = useState<Overlay>(null)
  const overlayRef = useRef<Overlay>(null)
  const [, redraw] = useReducer((count: number) => count + 1, 0)
  const [status, setStatus] = useState<{text: string; isError: boolean} | null>(null)
  // The audit pane's filters live here: they survive switching to another pane and back.
  const [auditFilters, setAuditFilters] = useState<AuditFilters>(NO_FILTERS)
  const paneKeys = useRef<Partial<Record<PaneName, KeyHandler>>>({})

  function setOverlay(next: Overlay) {
    overlayRef.current = next
    setOverlayState(next)
  }
  function setPane(next: PaneName) {
    paneRef.current = next
    setPaneState(next)
  }
  /** Closes a prompt or question once: a second key (or call) for the same one does nothing. */
  function settle<T extends PromptOverlay | ConfirmOverlay>(which: T, value: Parameters<T['resolve']>[0]) {
    if (overlayRef.current !== which) return
    setOverlay(null)
    if (which.kind === 'confirm' && value === false) setStatus({text: 'Cancelled', isError: false})
    ;(which.resolve as (value: unknown) => void)(value)
  }

  useKeys(({input, key}) => {
    if (key.ctrl && input === 'c') return exit()
    const current = overlayRef.current
    if (current?.kind === 'prompt') {
      if (key.escape) settle(current, null)
      else if (key.return) settle(current, current.value)
      else if (key.backspace || key.delete) {
        current.value = [...graphemes.segment(current.value)].slice(0, -1).map(({segment}) => segment).join('')
        redraw()
      } else if (!key.ctrl && !key.meta && input) {
        current.value += input.replaceAll(NOT_TEXT, '')
        redraw()
      }
      return
    }
    if (current?.kind === 'confirm') return settle(current, input === 'y' || input === 'Y')
    if (current?.kind === 'help') {
      if (key.escape || input === '?' || input === 'q') setOverlay(null)
      return
    }
    // A message stays until a key is pressed; that key does nothing else.
    if (current?.kind === 'message') return setOverlay(null)
    if (input === 'q') return exit()
    if (input === '?') return setOverlay({kind: 'help'})
    if (key.tab) return setPane(paneAfter(paneRef.current, key.shift ? -1 : 1))
    const chosen = paneOfKey(input)
    if (chosen) return setPane(chosen)
    paneKeys.current[paneRef.current]?.(input, key)
  })

  // Body: everything between the tab line and the two status lines and the footer (one row spare).
  const bodyHeight = size.rows - STATUS_LINES - 3
  const uiFor = (name: PaneName): PaneUi => ({
    core,
    actor,
    width,
    height: bodyHeight,
    color,
    org,
    keys: (handler) => {
      paneKeys.current[name] = handler
    },
    ask: (label, initial = '') =>
      new Promise((resolve) => {
        const open = overlayRef.current
        if (open?.kind === 'prompt' || open?.kind === 'confirm') settle(open, open.kind === 'prompt' ? null : false)
        setOverlay({kind: 'prompt', label, value: initial, resolve})
      }),
    confirm: (question) =>
      new Promise((resolve) => {
        const open = overlayRef.current
        if (open?.kind === 'prompt' || open?.kind === 'confirm') settle(open, open.kind === 'prompt' ? null : false)
        setOverlay({kind: 'confirm', question, resolve})
      }),
    notify: (text) => setStatus({text, isError: false}),
    show: (text) => setOverlay({kind: 'message', text}),
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
  })

  const tabs = PANES.map((name, index) => (name === pane ? `[${index + 1} ${PANE_TITLES[name]}]` : ` ${index + 1} ${PANE_TITLES[name]} `)).join('')
  const header = `saas-ctl ${tabs}  org: ${org ? org.slug : '-'}`
  const coversPane = overlay?.kind === 'help' || overlay?.kind === 'message'
  const hasInputLine = overlay?.kind === 'prompt' || overlay?.kind === 'confirm'
  return (
    <Box flexDirection="column" width={width}>
      <Text bold={color} color={color ? 'cyan' : undefined} wrap="truncate">
        {fitLine(header, width)}
      </Text>
      <Box flexDirection="column" height={bodyHeight} overflow="hidden">
        {overlay?.kind === 'help' ? <HelpView pane={pane} width={width} height={bodyHeight} color={color} /> : null}
        {overlay?.kind === 'message' ? <MessageView text={overlay.text} width={width} height={bodyHeight} /> : null}
        <Box display={coversPane ? 'none' : 'flex'} flexDirection="column">
          {/* The Orgs pane stays mounted (hidden) so its cursor, search and selected org survive pane switches. */}
          <Box display={pane === 'orgs' ? 'flex' : 'none'} flexDirection="column">
            <OrgsPane ui={uiFor('orgs')} isShown={pane === 'orgs' && !coversPane} onSelect={setOrg} onOpen={() => setPane('members')} />
          </Box>
          {pane === 'members' ? <MembersPane ui={uiFor('members')} /> : null}
          {pane === 'roles' ? <RolesPane ui={uiFor('roles')} /> : null}
          {pane === 'flags' ? <FlagsPane ui={uiFor('flags')} /> : null}
          {pane === 'audit' ? <AuditPane ui={uiFor('audit')} filters={auditFilters} onFilters={setAuditFilters} /> : null}
        </Box>
      </Box>
      {overlay?.kind === 'prompt' ? (
        <PromptLine label={overlay.label} value={overlay.value} width={width} color={color} />
      ) : overlay?.kind === 'confirm' ? (
        <ConfirmLine question={overlay.question} width={width} />
      ) : null}
      <Box flexDirection="column" height={hasInputLine ? STATUS_LINES - 1 : STATUS_LINES}>
        {wrapText(status?.text ?? '', width, hasInputLine ? STATUS_LINES - 1 : STATUS_LINES).map((line, index) => (
          <Text key={index} color={color && status?.isError ? 'red' : undefined} wrap="truncate">
            {line}
          </Text>
        ))}
      </Box>
      <Text dimColor={color} wrap="truncate">
        {fitLine(overlay?.kind === 'help' ? 'Esc or ? closes the help' : overlay?.kind === 'message' ? 'Any key closes this' : footerHint(pane), width)}
      </Text>
    </Box>
  )
}

/** Text shown whole (wrapped, never cut), such as an invitation's accept link, until a key is pressed. */
function MessageView({text, width, height}: {text: string; width: number; height: number}) {
  return (
    <Box flexDirection="column">
      {wrapAll(text, width)
        .slice(0, height)
        .map((line, index) => (
          <Text key={index} wrap="truncate">
            {line}
          </Text>
        ))}
    </Box>
  )
}
