import {Box, Text} from 'ink'
import type {RoleSummary} from '../../src/access/role-service.js'
import {parseLevel, parsePermissionList} from '../role/parse.js'
import {ListView, useCursor} from './list-view.js'
import {SELECT_AN_ORG, type PaneUi} from './pane-ui.js'
import {column, fitLine, wrapWords} from './text.js'
import {useLoad} from './use-load.js'

/** Lines under the list for the permissions of the role under the cursor. */
const PERMISSION_LINES = 4

/** The selected organization's roles, built-in and custom, with the permissions of the one under the cursor. */
export function RolesPane({ui}: {ui: PaneUi}) {
  const org = ui.org
  const {data, error, reload} = useLoad(async () => (org ? ui.core.roles.listRoles(ui.actor, {org: org.id}) : []), `roles:${org?.id ?? ''}`)
  const roles = data ?? []
  const listHeight = ui.height - 2 - PERMISSION_LINES
  const cursor = useCursor(roles, listHeight - 1, (role) => role.key)
  const current = roles[cursor.index]

  async function create() {
    if (!org) return
    const key = await ui.ask(`New role of ${org.slug}, key:`)
    if (!key) return
    const name = await ui.ask('Name:', key)
    if (!name) return
    const permissions = await ui.ask('Permissions (comma-separated, e.g. org.read,members.read):')
    if (permissions === null) return
    const level = await ui.ask('Level (1 like viewer … below owner):', '1')
    if (level === null) return
    const created = await ui.run(
      () => ui.core.roles.createRole(ui.actor, {org: org.id, key, name, permissions: parsePermissionList(permissions) ?? [], level: parseLevel(level)}),
      (role) => `Created role ${role.key} in ${org.slug}`,
    )
    if (created) reload()
  }

  async function edit(role: RoleSummary) {
    if (!org) return
    if (role.isBuiltin) return ui.notify(`${role.key} is built in; its permissions cannot change`)
    const permissions = await ui.ask(`Permissions of ${role.key}:`, role.permissions.join(','))
    if (permissions === null) return
    const updated = await ui.run(
      () => ui.core.roles.updateRole(ui.actor, {org: org.id, role: role.key, permissions: parsePermissionList(permissions) ?? []}),
      (result) => `Role ${result.key} now has ${result.permissions.length} permission(s)`,
    )
    if (updated) reload()
  }

  async function remove(role: RoleSummary) {
    if (!org) return
    if (role.isBuiltin) return ui.notify(`${role.key} is built in and cannot be deleted`)
    if (!(await ui.confirm(`Delete role ${role.key} of ${org.slug}?`))) return
    if (await ui.run(() => ui.core.roles.deleteRole(ui.actor, {org: org.id, role: role.key}), (result) => `Deleted role ${result.key}`)) reload()
  }

  ui.keys((input, key) => {
    if (!org || cursor.handleKey(input, key)) return
    const under = roles[cursor.currentIndex()]
    if (input === 'n') void create()
    else if (input === 'e' && under) void edit(under)
    else if (input === 'x' && under) void remove(under)
  })

  if (!org) return <Text wrap="truncate">{fitLine(SELECT_AN_ORG, ui.width)}</Text>
  const rows = roles.map(
    (role) => `${column(role.key, 16)} ${column(role.name, 20)} ${column(role.isBuiltin ? 'built-in' : 'custom', 9)} ${column(role.level, 5)} ${column(role.memberCount, 7)} ${role.permissions.length}`,
  )
  const permissions = current ? wrapWords(current.permissions, ui.width - 2, PERMISSION_LINES) : []
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">{fitLine(error ?? `${org.slug}: ${roles.length} role(s)`, ui.width)}</Text>
      <ListView
        header={`${column('key', 16)} ${column('name', 20)} ${column('kind', 9)} ${column('level', 5)} ${column('members', 7)} perms`}
        rows={rows}
        cursor={cursor.index}
        width={ui.width}
        height={listHeight}
        color={ui.color}
        empty={data ? 'No roles' : 'Loading…'}
      />
      <Text wrap="truncate">{fitLine(current ? `Permissions of ${current.key}:` : '', ui.width)}</Text>
      {permissions.map((line, index) => (
        <Text key={index} wrap="truncate">{fitLine(`  ${line}`, ui.width)}</Text>
      ))}
    </Box>
  )
}
