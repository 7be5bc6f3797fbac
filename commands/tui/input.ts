import type {Key} from 'ink'

/** A key as the panes see it: Ink's shape, one key at a time. */
export interface KeyPress {
  input: string
  key: Key
}

/** A key handler; true when it used the key (a pane's cursor first, then its actions). */
export type KeyHandler = (input: string, key: Key) => boolean | void

const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
}

function keyOf(character: string): KeyPress {
  if (character === '\r' || character === '\n') return {input: '', key: {...NO_KEY, return: true}}
  if (character === '\u007F' || character === '\b') return {input: '', key: {...NO_KEY, backspace: true}}
  if (character === '\t') return {input: '', key: {...NO_KEY, tab: true}}
  const code = character.codePointAt(0)!
  // Ctrl-A … Ctrl-Z as Ink names them: the letter, with ctrl.
  if (code >= 1 && code <= 26) return {input: String.fromCodePoint(code + 96), key: {...NO_KEY, ctrl: true}}
  return {input: character, key: {...NO_KEY, shift: /^[A-Z]$/.test(character)}}
}

/** Escape sequences of the keys the panes use (xterm and its kin, CSI and SS3 forms). */
const SEQUENCES: Record<string, Partial<Key>> = {
  '[A': {upArrow: true},
  '[B': {downArrow: true},
  '[C': {rightArrow: true},
  '[D': {leftArrow: true},
  OA: {upArrow: true},
  OB: {downArrow: true},
  OC: {rightArrow: true},
  OD: {leftArrow: true},
  '[5~': {pageUp: true},
  '[6~': {pageDown: true},
  '[H': {home: true},
  '[1~': {home: true},
  '[7~': {home: true},
  OH: {home: true},
  '[F': {end: true},
  '[4~': {end: true},
  '[8~': {end: true},
  OF: {end: true},
  '[3~': {delete: true},
  '[Z': {tab: true, shift: true},
}

/** ESC, then a CSI or SS3 sequence or one character (Alt-x), or nothing (Esc itself). */
const ESCAPE_SEQUENCE = /^\u001B(\[[0-9;?]*[ -/]*[@-~]|O[@-~]|[^\u001B])?/u

/**
 * The keys of one read from the terminal, in order. Ink splits a read only at ESC, so "jjj",
 * a pasted "ten\rant\n" or three backspaces arrive as one input: they are split into code
 * points (\r and \n are Enter, DEL and BS Backspace, Tab Tab, Ctrl-letters ctrl) and each is
 * handled on its own. Escape sequences are read by the table above; an unknown one is a meta
 * key with no text, which nothing types.
 */
export function parseKeys(raw: string): KeyPress[] {
  const keys: KeyPress[] = []
  let rest = raw
  while (rest) {
    if (rest.startsWith('\u001B')) {
      const match = ESCAPE_SEQUENCE.exec(rest)!
      const tail = match[1]
      if (tail === undefined) keys.push({input: '', key: {...NO_KEY, escape: true, meta: true}})
      else if (SEQUENCES[tail]) keys.push({input: '', key: {...NO_KEY, ...SEQUENCES[tail]}})
      else if (tail.length === 1 && tail !== '[' && tail !== 'O') keys.push({input: tail, key: {...NO_KEY, meta: true}})
      else keys.push({input: '', key: {...NO_KEY, meta: true}})
      rest = rest.slice(match[0].length)
      continue
    }
    const next = rest.indexOf('\u001B')
    const text = next < 0 ? rest : rest.slice(0, next)
    for (const character of text) keys.push(keyOf(character))
    rest = next < 0 ? '' : rest.slice(next)
  }
  return keys
}
