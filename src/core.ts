import {v7 as uuidv7} from 'uuid'
import {createMemberService} from './access/member-service.js'
import {createRoleService} from './access/role-service.js'
import {createAuditLog} from './audit/audit-log.js'
import type {Config} from './config/settings.js'
import {parseDatabaseUrl} from './db/database-url.js'
import {ensureSchemaCurrent} from './db/migrations.js'
import {openDatabase, type OpenedDatabase} from './db/open-database.js'
import {createFlagService} from './flags/flag-service.js'
import {createUserService, type PasswordHashing} from './identity/user-service.js'
import {systemClock, type Clock} from './security/clock.js'
import {createPasswordHasher} from './security/password-hasher.js'
import type {ServiceDeps} from './shared/service-deps.js'
import {createOrgService} from './tenancy/org-service.js'

export interface CoreOptions {
  config: Config
  /** Relative SQLite paths resolve against it. */
  cwd: string
  clock?: Clock
  newId?: () => string
  passwords?: PasswordHashing
  /** Default true: migrate SQLite on the spot, refuse Postgres with pending migrations. */
  ensureSchema?: boolean
}

export type Core = Awaited<ReturnType<typeof createCore>>

/** Opens the configured database without touching its schema (for `migrate` commands). */
export async function openConfiguredDatabase(config: Config, cwd: string): Promise<OpenedDatabase> {
  return openDatabase(parseDatabaseUrl(config.databaseUrl, cwd))
}

/** The one place that wires the core: the database, the clock, ids, and every service. */
export async function createCore(options: CoreOptions) {
  const database = await openConfiguredDatabase(options.config, options.cwd)
  try {
    if (options.ensureSchema ?? true) await ensureSchemaCurrent(database.db, database.dialect)
  } catch (error) {
    await database.close()
    throw error
  }
  const deps: ServiceDeps = {db: database.db, clock: options.clock ?? systemClock, newId: options.newId ?? (() => uuidv7())}
  const audit = createAuditLog(deps)
  const passwords = options.passwords ?? createPasswordHasher()
  return {
    database,
    audit,
    orgs: createOrgService({...deps, audit}),
    users: createUserService({...deps, audit, passwords, accessTokenTtlSeconds: options.config.accessTokenTtlSeconds}),
    members: createMemberService({...deps, audit}),
    roles: createRoleService({...deps, audit}),
    flags: createFlagService({...deps, audit}),
    close: () => database.close(),
  }
}
