import type {Actor} from '../../src/access/principal.js'
import type {Core} from '../../src/core.js'
import {isDomainError} from '../../src/errors/domain-error.js'
import {looksLikeId} from '../../src/tenancy/org-schemas.js'

/** A live or deleted org by slug or id; an unknown value is taken as the id of a purged org, whose events remain. */
export async function resolveAuditOrgId(core: Core, actor: Actor, ref: string): Promise<string> {
  try {
    return (await core.orgs.showOrg(actor, {org: ref})).id
  } catch (error) {
    if (isDomainError(error) && error.code === 'org.not_found' && looksLikeId(ref)) return ref
    throw error
  }
}
