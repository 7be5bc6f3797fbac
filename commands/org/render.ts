import type {Organization} from '../../src/tenancy/org-repo.js'
import type {OrganizationSummary} from '../../src/tenancy/org-service.js'
import {renderRecord, renderTable} from '../lib/render-table.js'

export function renderOrganization(org: Organization & {memberCount?: number}): string {
  return renderRecord([
    ['id', org.id],
    ['slug', org.slug],
    ['name', org.name],
    ['tier', org.tier],
    ...(org.domain ? [['domain', org.domain] as [string, unknown]] : []),
    ['require 2fa', org.require2fa],
    ...(org.memberCount === undefined ? [] : [['members', org.memberCount] as [string, unknown]]),
    ['created', org.createdAt],
    ['deleted', org.deletedAt],
  ])
}

export function renderOrganizations(orgs: OrganizationSummary[]): string {
  return renderTable(orgs, [
    {header: 'slug', value: (org) => org.slug},
    {header: 'name', value: (org) => org.name},
    {header: 'tier', value: (org) => org.tier},
    {header: 'members', value: (org) => org.memberCount},
    {header: '2fa', value: (org) => (org.require2fa ? 'required' : '')},
    {header: 'created', value: (org) => org.createdAt},
    {header: 'deleted', value: (org) => org.deletedAt},
    {header: 'id', value: (org) => org.id},
  ])
}
