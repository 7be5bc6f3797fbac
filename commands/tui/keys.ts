/** The panes of the TUI, in the order of their number keys. */
export const PANES = ['orgs', 'members', 'roles', 'flags', 'audit'] as const
export type PaneName = (typeof PANES)[number]

export const PANE_TITLES: Record<PaneName, string> = {
  orgs: 'Orgs',
  members: 'Members',
  roles: 'Roles',
  flags: 'Flags',
  audit: 'Audit',
}

/** The pane a number key (1–5) names, or the next/previous one for Tab/Shift-Tab. */
export function paneAfter(current: PaneName, step: 1 | -1): PaneName {
  const index = PANES.indexOf(current)
  return PANES[(index + step + PANES.length) % PANES.length]!
}

export function paneOfKey(input: string): PaneName | null {
  const index = Number.parseInt(input, 10)
  return input.length === 1 && index >= 1 && index <= PANES.length ? PANES[index - 1]! : null
}

export const GLOBAL_KEYS: [string, string][] = [
  ['1-5, Tab', 'switch pane (Shift-Tab: back)'],
  ['↑/↓, j/k', 'move; PgUp/PgDn page'],
  ['?', 'this help (Esc or ? closes)'],
  ['q, Ctrl-C', 'quit'],
  ['Esc', 'cancel a prompt; confirmations need y'],
]

/** The keys of each pane, as the help screen and the footer show them. */
export const PANE_KEYS: Record<PaneName, [key: string, short: string, long: string][]> = {
  orgs: [
    ['/', 'search', 'search by slug or name (empty: all)'],
    ['n', 'new', 'create an organization'],
    ['d', 'delete', 'soft delete (asks first)'],
    ['r', 'restore', 'restore a deleted organization'],
    ['Enter', 'members', "open the organization's members"],
  ],
  members: [
    ['i', 'invite', 'invite an email with a role'],
    ['e', 'role', "change the member's role"],
    ['x', 'remove', 'remove the member / revoke the invitation (asks)'],
  ],
  roles: [
    ['n', 'new', 'create a custom role'],
    ['e', 'edit', "edit a custom role's permissions"],
    ['x', 'delete', 'delete a custom role (asks)'],
  ],
  flags: [
    ['t', 'toggle', "toggle the flag's default"],
    ['o', 'override', 'override for the selected org: on/off/clear'],
    ['p', 'rollout', 'rollout percentage (0-100, none)'],
    ['n', 'new', 'create a flag'],
    ['x', 'delete', 'delete the flag (asks)'],
  ],
  audit: [
    ['o', 'org', 'filter by org (slug or id; empty: all)'],
    ['a', 'action', 'filter by action (org.created, org.*)'],
    ['u', 'actor', 'filter by actor (id or name)'],
    ['c', 'clear', 'clear the filters'],
  ],
}

/** One footer line: the pane's keys, shortest form. */
export function footerHint(pane: PaneName): string {
  return [...PANE_KEYS[pane].map(([key, short]) => `${key} ${short}`), '? help', 'q quit'].join('  ')
}
