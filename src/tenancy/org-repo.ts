import type {Kysely} from 'kysely'
import type {Database, OrganizationRow} from '../db/database.js'
import {DomainError} from '../errors/domain-error.js'

export const ORG_TIERS = ['free', 'basic', 'premium', 'enterprise'] as const
export type OrgTier = (typeof ORG_TIERS)[number]

export interface Organization {
  id: string
  slug: string
  name: string
  tier: string
  createdAt: string
  updatedAt: string
  deletedAt: string | null
}

/** An organization by id or slug; null when there is none. */
export async function findOrgByRef(db: Kysely<Database>, ref: string): Promise<OrganizationRow | null> {
  // The id wins over the slug, so a reference can never resolve to two organizations.
  const byId = await db.selectFrom('organization').selectAll().where('id', '=', ref).executeTakeFirst()
  if (byId) return byId
  const bySlug = await db.selectFrom('organization').selectAll().where('slug', '=', ref.trim().toLowerCase()).executeTakeFirst()
  return bySlug ?? null
}

/**
 * An organization by id or slug. Raises `org.not_found`, and `org.deleted` when it is
 * soft-deleted and the caller wants to change it.
 */
export async function requireOrg(db: Kysely<Database>, ref: string, options: {allowDeleted?: boolean} = {}): Promise<OrganizationRow> {
  const row = await findOrgByRef(db, ref)
  if (!row) throw new DomainError('org.not_found', `No organization "${ref}"`)
  if (row.deleted_at && !options.allowDeleted) {
    throw new DomainError('org.deleted', `Organization "${row.slug}" is deleted; restore it with \`saas-ctl org restore ${row.slug}\` first`)
  }
  return row
}

export function toOrganization(row: OrganizationRow): Organization {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    tier: row.tier,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
  }
}
