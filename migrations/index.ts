import type {Migration} from 'kysely'
import * as init from './0001-init.js'
import * as identity from './0002-identity.js'
import * as principals from './0003-principals.js'
import * as accountSecurity from './0004-account-security.js'
import * as orgLimits from './0005-org-limits.js'
import * as invitations from './0006-invitations.js'
import * as rateLimits from './0007-rate-limits.js'
import * as webhooks from './0008-webhooks.js'
import * as auditCheckpoints from './0009-audit-checkpoints.js'

/** Every migration, in order. The same files serve SQLite and Postgres. */
export const MIGRATIONS: Record<string, Migration> = {
  '0001-init': init,
  '0002-identity': identity,
  '0003-principals': principals,
  '0004-account-security': accountSecurity,
  '0005-org-limits': orgLimits,
  '0006-invitations': invitations,
  '0007-rate-limits': rateLimits,
  '0008-webhooks': webhooks,
  '0009-audit-checkpoints': auditCheckpoints,
}
