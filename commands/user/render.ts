import type {User} from '../../src/identity/user-repo.js'
import type {UserDetails} from '../../src/identity/user-service.js'
import {renderRecord, renderTable} from '../lib/render-table.js'

export function renderUser(user: User): string {
  return renderRecord([
    ['id', user.id],
    ['email', user.email],
    ['name', user.name],
    ['status', user.status],
    ['platform admin', user.isPlatformAdmin],
    ['email verified', user.emailVerifiedAt],
    ['created', user.createdAt],
    ['updated', user.updatedAt],
    ['disabled', user.disabledAt],
  ])
}

export function renderUsers(users: User[]): string {
  return renderTable(users, [
    {header: 'email', value: (user) => user.email},
    {header: 'name', value: (user) => user.name},
    {header: 'status', value: (user) => user.status},
    {header: 'platform admin', value: (user) => user.isPlatformAdmin},
    {header: 'created', value: (user) => user.createdAt},
    {header: 'id', value: (user) => user.id},
  ])
}

export function renderMemberships(memberships: UserDetails['memberships']): string {
  return renderTable(memberships, [
    {header: 'org', value: (membership) => membership.orgSlug},
    {header: 'name', value: (membership) => membership.orgName},
    {header: 'role', value: (membership) => membership.role},
    {header: 'org id', value: (membership) => membership.orgId},
  ])
}
