import type {Migration} from 'kysely'
import * as init from './0001-init.js'
import * as identity from './0002-identity.js'
import * as principals from './0003-principals.js'
import * as accountSecurity from './0004-account-security.js'
import * as orgLimits from './0005-org-limits.js'

/** Every migration, in order. The same files serve SQLite and Postgres. */
export const MIGRATIONS: Record<string, Migration> = {
  '0001-init': init,
  '0002-identity': identity,
  '0003-principals': principals,
  '0004-account-security': accountSecurity,
  '0005-org-limits': orgLimits,
}
