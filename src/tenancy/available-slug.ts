import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import {DomainError} from '../errors/domain-error.js'
import {generateOpaqueToken} from '../security/secure-token.js'
import {slugFromName} from './org-schemas.js'

/** A free slug for an organization named `orgName`: from the name, with a random suffix when taken. Raises org.slug_taken. */
export async function findAvailableSlug(db: Kysely<Database>, orgName: string): Promise<string> {
  const base = (slugFromName(orgName) || 'workspace').slice(0, 50).replace(/-+$/, '').padEnd(2, '0')
  for (let attempt = 0; attempt < 5; attempt++) {
    const candidate = attempt === 0 ? base : `${base}-${generateOpaqueToken(16).replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 6)}`
    const taken = await db.selectFrom('organization').select('id').where('slug', '=', candidate).executeTakeFirst()
    if (!taken) return candidate
  }
  throw new DomainError('org.slug_taken', 'Could not find a free slug for the personal organization')
}
