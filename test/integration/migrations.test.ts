import {afterEach, beforeEach, expect, it} from 'vitest'
import {MIGRATIONS} from '../../migrations/index.js'
import {createCore} from '../../src/core.js'
import {parseDatabaseUrl} from '../../src/db/database-url.js'
import {ensureSchemaCurrent, listMigrations, migrateDownOne, migrateToLatest} from '../../src/db/migrations.js'
import {openDatabase, type OpenedDatabase} from '../../src/db/open-database.js'
import {FAST_PASSWORD_HASHER, OPERATOR, testConfig} from '../helpers/test-core.js'
import {createTestDatabase, describeEachDialect, type TestDatabase} from '../helpers/test-database.js'

const MIGRATION_NAMES = Object.keys(MIGRATIONS)
const BOOKKEEPING_TABLES = ['saasctl_migration', 'saasctl_migration_lock']

describeEachDialect('migrations', (dialect) => {
  let database: TestDatabase
  let opened: OpenedDatabase
  beforeEach(async () => {
    database = await createTestDatabase(dialect)
    opened = await openDatabase(parseDatabaseUrl(database.url, process.cwd()))
  })
  afterEach(async () => {
    await opened?.close()
    await database?.drop()
  })

  async function applicationTables(): Promise<string[]> {
    const tables = await opened.db.introspection.getTables()
    return tables.map((table) => table.name).filter((name) => !BOOKKEEPING_TABLES.includes(name)).sort()
  }

  it('lists every migration as pending on a fresh database', async () => {
    expect(MIGRATION_NAMES.length).toBeGreaterThan(0)
    expect(await listMigrations(opened.db)).toEqual(MIGRATION_NAMES.map((name) => ({name, executedAt: null})))
    expect(await applicationTables()).toEqual([])
  })

  it('applies every migration in order, then has nothing left to apply', async () => {
    expect(await migrateToLatest(opened.db)).toEqual(MIGRATION_NAMES)
    const states = await listMigrations(opened.db)
    expect(states.map((state) => state.name)).toEqual(MIGRATION_NAMES)
    for (const state of states) {
      expect(state.executedAt, state.name).not.toBeNull()
      expect(new Date(state.executedAt ?? '').toISOString()).toBe(state.executedAt)
    }
    expect(await applicationTables()).toEqual(expect.arrayContaining(['audit_event', 'feature_flag', 'flag_override', 'membership', 'organization', 'permission', 'role', 'role_permission', 'user_account']))
    expect(await migrateToLatest(opened.db)).toEqual([])
  })

  it('round-trips: migrateDownOne reverts the newest migration, migrateToLatest re-applies it', async () => {
    await migrateToLatest(opened.db)
    const tablesAtLatest = await applicationTables()
    const newest = MIGRATION_NAMES.at(-1) ?? ''

    expect(await migrateDownOne(opened.db)).toEqual([newest])
    const states = await listMigrations(opened.db)
    expect(states.find((state) => state.name === newest)?.executedAt).toBeNull()
    expect(states.filter((state) => state.executedAt !== null).map((state) => state.name)).toEqual(MIGRATION_NAMES.slice(0, -1))
    if (MIGRATION_NAMES.length > 1) expect((await applicationTables()).length).toBeLessThan(tablesAtLatest.length)

    expect(await migrateToLatest(opened.db)).toEqual([newest])
    expect(await applicationTables()).toEqual(tablesAtLatest)
    expect((await listMigrations(opened.db)).every((state) => state.executedAt !== null)).toBe(true)
  })

  it('reverts every migration one by one down to an empty schema, and builds it all again', async () => {
    await migrateToLatest(opened.db)
    const tablesAtLatest = await applicationTables()
    for (const name of [...MIGRATION_NAMES].reverse()) {
      expect(await migrateDownOne(opened.db)).toEqual([name])
    }
    expect(await applicationTables()).toEqual([])
    await expect(migrateDownOne(opened.db)).rejects.toMatchObject({code: 'db.nothing_to_migrate'})

    expect(await migrateToLatest(opened.db)).toEqual(MIGRATION_NAMES)
    expect(await applicationTables()).toEqual(tablesAtLatest)
    // The seeded catalog is back and the services work on the rebuilt schema.
    expect((await opened.db.selectFrom('role').select('key').where('is_builtin', '=', 1).execute()).length).toBe(4)
    const core = await createCore({config: testConfig(database.url), cwd: process.cwd(), passwords: FAST_PASSWORD_HASHER})
    try {
      const {user} = await core.users.createUser(OPERATOR, {email: 'rebuilt@example.com'})
      await core.orgs.createOrg(OPERATOR, {name: 'Rebuilt', owner: user.id})
      expect((await core.members.listMembers(OPERATOR, {org: 'rebuilt'})).items.map((member) => member.role)).toEqual(['owner'])
      expect(await core.audit.verifyChain()).toEqual({isIntact: true, checkedEvents: 3})
    } finally {
      await core.close()
    }
  })

  it('refuses migrateDownOne when nothing is applied', async () => {
    await expect(migrateDownOne(opened.db)).rejects.toMatchObject({code: 'db.nothing_to_migrate'})
  })

  it(`ensureSchemaCurrent on a fresh database: ${dialect === 'postgres' ? 'raises db.migrations_pending and changes nothing' : 'migrates it'}`, async () => {
    if (dialect === 'postgres') {
      await expect(ensureSchemaCurrent(opened.db, dialect)).rejects.toMatchObject({code: 'db.migrations_pending'})
      expect((await listMigrations(opened.db)).every((state) => state.executedAt === null)).toBe(true)
      expect(await applicationTables()).toEqual([])
    } else {
      await ensureSchemaCurrent(opened.db, dialect)
      expect((await listMigrations(opened.db)).every((state) => state.executedAt !== null)).toBe(true)
      expect(await applicationTables()).toContain('organization')
    }
  })

  it(`ensureSchemaCurrent with the newest migration reverted: ${dialect === 'postgres' ? 'raises db.migrations_pending' : 'migrates it again'}`, async () => {
    await migrateToLatest(opened.db)
    await migrateDownOne(opened.db)
    if (dialect === 'postgres') {
      await expect(ensureSchemaCurrent(opened.db, dialect)).rejects.toMatchObject({code: 'db.migrations_pending'})
    } else {
      await ensureSchemaCurrent(opened.db, dialect)
    }
    const applied = (await listMigrations(opened.db)).filter((state) => state.executedAt !== null).length
    expect(applied).toBe(dialect === 'postgres' ? MIGRATION_NAMES.length - 1 : MIGRATION_NAMES.length)
  })

  it(`createCore on a fresh database: ${dialect === 'postgres' ? 'refuses with db.migrations_pending' : 'migrates and opens'}`, async () => {
    const opening = createCore({config: testConfig(database.url), cwd: process.cwd(), passwords: FAST_PASSWORD_HASHER})
    if (dialect === 'postgres') {
      await expect(opening).rejects.toMatchObject({code: 'db.migrations_pending'})
      expect(await applicationTables()).toEqual([])
      return
    }
    const core = await opening
    try {
      expect((await listMigrations(core.database.db)).every((state) => state.executedAt !== null)).toBe(true)
      expect((await core.orgs.createOrg(OPERATOR, {name: 'Fresh'})).created).toBe(true)
    } finally {
      await core.close()
    }
  })

  it('ensureSchemaCurrent accepts a database at the latest migration', async () => {
    await migrateToLatest(opened.db)
    await expect(ensureSchemaCurrent(opened.db, dialect)).resolves.toBeUndefined()
    expect(await migrateToLatest(opened.db)).toEqual([])
  })
})
