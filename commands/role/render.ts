import type {Role} from '../../src/access/role-repo.js'
import type {RoleSummary} from '../../src/access/role-service.js'
import {renderRecord, renderTable} from '../lib/render-table.js'

export function renderRole(role: Role & {memberCount?: number}): string {
  return renderRecord([
    ['key', role.key],
    ['name', role.name],
    ['level', role.level],
    ['built-in', role.isBuiltin],
    ...(role.memberCount === undefined ? [] : [['members', role.memberCount] as [string, unknown]]),
    ['permissions', role.permissions],
    ['id', role.id],
  ])
}

export function renderRoles(roles: RoleSummary[]): string {
  return renderTable(roles, [
    {header: 'key', value: (role) => role.key},
    {header: 'name', value: (role) => role.name},
    {header: 'level', value: (role) => role.level},
    {header: 'built-in', value: (role) => role.isBuiltin},
    {header: 'members', value: (role) => role.memberCount},
    {header: 'permissions', value: (role) => role.permissions},
  ])
}
