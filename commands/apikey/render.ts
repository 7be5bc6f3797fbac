import type {ApiKey} from '../../src/apikeys/api-key-repo.js'
import {renderRecord, renderTable} from '../lib/render-table.js'

export function renderApiKey(key: ApiKey): string {
  return renderRecord([
    ['id', key.id],
    ['name', key.name],
    ['prefix', key.prefix],
    ['org', key.isPlatform ? '(platform: every organization)' : key.orgId],
    ['role', key.role],
    ['permissions', key.isPlatform ? 'all' : key.permissions],
    ['status', key.status],
    ['created', key.createdAt],
    ['expires', key.expiresAt],
    ['last used', key.lastUsedAt],
    ['revoked', key.revokedAt],
  ])
}

export function renderApiKeys(keys: ApiKey[]): string {
  return renderTable(keys, [
    {header: 'id', value: (key) => key.id},
    {header: 'name', value: (key) => key.name},
    {header: 'prefix', value: (key) => key.prefix},
    {header: 'role', value: (key) => key.role},
    {header: 'permissions', value: (key) => (key.isPlatform ? 'all' : key.role ? '' : key.permissions)},
    {header: 'status', value: (key) => key.status},
    {header: 'created', value: (key) => key.createdAt},
    {header: 'expires', value: (key) => key.expiresAt},
    {header: 'last used', value: (key) => key.lastUsedAt},
  ])
}
