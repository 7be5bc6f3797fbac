import type {Kysely} from 'kysely'
import {createMemberService} from '../access/member-service.js'
import {createRoleService} from '../access/role-service.js'
import {createApiKeyService} from '../apikeys/api-key-service.js'
import type {Core} from '../core.js'
import type {Database} from '../db/database.js'
import {createFlagService} from '../flags/flag-service.js'
import type {RevocationSignal} from '../identity/revocation-signal.js'
import {createUserService} from '../identity/user-service.js'
import {createOrgLimitsService} from '../tenancy/org-limits-service.js'
import {createOrgService} from '../tenancy/org-service.js'

export type TransactionServices = ReturnType<typeof createServicesInTransaction>

/**
 * The core's services, built by the same factories with the same dependencies, but on a
 * transaction instead of the database: every method's `inTransaction(db, …)` then runs inside
 * it (src/db/transaction.ts), so many calls make one atomic unit, each still checking its rules
 * and appending its audit event. `signal` stands in for the revocation signal until the
 * transaction commits (a listener must not read the database from inside it).
 */
export function createServicesInTransaction(core: Core, tx: Kysely<Database>, signal: RevocationSignal) {
  const deps = {db: tx, clock: core.clock, newId: core.newId}
  const access = {...deps, audit: core.audit, accessTokenTtlSeconds: core.config.accessTokenTtlSeconds, revocationSignal: signal}
  return {
    users: createUserService({...access, passwords: core.passwords, purgeHooks: core.purgeHooks, emailChanges: core.account.emailChanges}),
    flags: createFlagService({...deps, audit: core.audit}),
    orgs: createOrgService({...access, purgeHooks: core.purgeHooks, allowUserOrgCreation: core.config.allowUserOrgCreation, secondFactor: core.mfa}),
    orgLimits: createOrgLimitsService({...deps, audit: core.audit, tiers: core.tiers}),
    roles: createRoleService(access),
    members: createMemberService({...access, tiers: core.tiers}),
    apiKeys: createApiKeyService({...deps, audit: core.audit}),
  }
}

/** A revocation signal that only remembers it was called; the caller notifies the real one after commit. */
export function createDeferredSignal(real: RevocationSignal): RevocationSignal & {isPending: () => boolean} {
  let isPending = false
  return {
    subscribe: (listener) => real.subscribe(listener),
    notify: async () => {
      isPending = true
    },
    isPending: () => isPending,
  }
}
