import {sql, type Kysely} from 'kysely'
import type {Database, OrganizationRow} from '../db/database.js'
import {sharedQuery} from '../db/prepared-query.js'
import {DomainError} from '../errors/domain-error.js'

export const ORG_TIERS = ['free', 'basic', 'premium', 'enterprise'] as const
export type OrgTier = (typeof ORG_TIERS)[number]

export interface Organization {
  id: string
  slug: string
  name: string
  tier: string
  /** A custom domain that names the organization at login; set by operators only. */
  domain: string | null
  /** Members must have 2FA on to log in to it or switch into it (`require_2fa` on the wire). */
  require2fa: boolean
  createdAt: string
  updatedAt: string
  deletedAt: string | null
}

const orgByRefQuery = (db: Kysely<Database>, id: string, slug: string) =>
  db
    .selectFrom('organization')
    .selectAll()
    .where((eb) => eb.or([eb('id', '=', id), eb('slug', '=', slug)]))
    // Written in the SQL, not bound: SQLite prepares a statement with a bound LIMIT again on every run.
    .limit(sql.lit(2))

/** The lookup compiled once (sharedQuery), on the database or in a transaction alike: org-scoped requests and every org-scoped change run it. */
const selectOrgByRef = sharedQuery(2, (db, id: string, slug: string) => orgByRefQuery(db, id, slug))

/** An organization by id or slug; null when there is none. One query: this runs on every org-scoped request. */
export async function findOrgByRef(db: Kysely<Database>, ref: string): Promise<OrganizationRow | null> {
  const slug = ref.trim().toLowerCase()
  const {rows} = await selectOrgByRef(db, ref, slug)
  // The id wins over the slug, so a reference can never resolve to two organizations.
  return rows.find((row) => row.id === ref) ?? rows[0] ?? null
}

const selectOrgById = sharedQuery(1, (db, id: string) => (db as Kysely<Database>).selectFrom('organization').selectAll().where('id', '=', id))

/** An organization by id only; null when there is none. */
export async function findOrgById(db: Kysely<Database>, id: string): Promise<OrganizationRow | null> {
  return (await selectOrgById(db, id)).rows[0] ?? null
}

/** The organization whose custom domain is `domain` (lowercase host), deleted or not; null when none. */
export async function findOrgByDomain(db: Kysely<Database>, domain: string): Promise<OrganizationRow | null> {
  const row = await db.selectFrom('organization').selectAll().where('domain', '=', domain.trim().toLowerCase()).executeTakeFirst()
  return row ?? null
}

/**
 * An organization by id or slug, without asking who wants it (internal callers that already
 * decided access). Raises `org.not_found`, and `org.deleted` when it is soft-deleted and the
 * caller wants to change it.
 */
export async function requireOrg(db: Kysely<Database>, ref: string, options: {allowDeleted?: boolean} = {}): Promise<OrganizationRow> {
  const row = await findOrgByRef(db, ref)
  if (!row) throw new DomainError('org.not_found', `No organization "${ref}"`)
  if (row.deleted_at && !options.allowDeleted) {
    throw new DomainError('org.deleted', `Organization "${row.slug}" is deleted; restore it with \`saas-ctl org restore ${row.slug}\` first`)
  }
  return row
}

/** How many members each organization has (0 for none). */
export async function countMembersOfOrgs(db: Kysely<Database>, orgIds: string[]): Promise<Map<string, number>> {
  const counts = new Map(orgIds.map((id) => [id, 0]))
  if (orgIds.length === 0) return counts
  const rows = await db
    .selectFrom('membership')
    .select(['org_id', (eb) => eb.fn.countAll<number>().as('count')])
    .where('org_id', 'in', orgIds)
    .groupBy('org_id')
    .execute()
  for (const row of rows) counts.set(row.org_id, Number(row.count))
  return counts
}

/** The roles a user holds, by organization id, in every organization they belong to. */
export async function rolesOfUserByOrg(db: Kysely<Database>, userId: string): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('membership')
    .innerJoin('role', 'role.id', 'membership.role_id')
    .select(['membership.org_id', 'role.key'])
    .where('membership.user_id', '=', userId)
    .execute()
  return new Map(rows.map((row) => [row.org_id, row.key]))
}

export function toOrganization(row: OrganizationRow): Organization {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    tier: row.tier,
    domain: row.domain,
    require2fa: Number(row.require_2fa) === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
  }
}
