import {statSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {SYSTEM_ACTOR} from '../../../src/access/principal.js'
import {createCore, type Core} from '../../../src/core.js'
import {generateSigningKey} from '../../../src/security/signing-keys.js'
import {secretKeyFileOf} from '../../../src/security/secret-key.js'
import {createTestCore, FAST_PASSWORD_HASHER, OPERATOR, testConfig, type TestCore} from '../../helpers/test-core.js'
import {TEST_POSTGRES_URL} from '../../helpers/postgres-availability.js'
import {createTestDatabase, describeEachDialect} from '../../helpers/test-database.js'
import {createPasswordUser, loginAs} from './identity-fixture.js'

// Issue 7, review item 1: private signing keys are stored encrypted (AES-256-GCM) with the
// deployment's secret key; SQLite files are private.
const OTHER_SECRET_KEY = 'a'.repeat(64)

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function testCore(dialect: 'sqlite' | 'postgres', settings = {}): Promise<TestCore> {
  const t = await createTestCore(dialect, settings)
  cleanups.push(() => t.close())
  return t
}

async function openAnother(t: TestCore, settings: Record<string, unknown> = {}): Promise<Core> {
  const core = await createCore({config: testConfig(t.database.url, settings), cwd: process.cwd(), clock: t.clock, passwords: FAST_PASSWORD_HASHER})
  cleanups.push(() => core.close())
  return core
}

const storedPrivateKeys = async (core: Core) => (await core.database.db.selectFrom('signing_key').select(['kid', 'private_jwk']).execute())

describeEachDialect('identity: private signing keys at rest', (dialect) => {
  it('are stored sealed (no private scalar in the row), and another process opens them to verify and sign', async () => {
    const t = await testCore(dialect)
    await t.core.signingKeys.ensureActiveKey(SYSTEM_ACTOR)
    await t.core.signingKeys.rotate(OPERATOR)
    const rows = await storedPrivateKeys(t.core)
    expect(rows).toHaveLength(2)
    const ring = await t.core.signingKeys.loadTrustedKeys()
    for (const row of rows) {
      expect(row.private_jwk).toMatch(/^enc:v1:/)
      const {d} = ring.find((key) => key.kid === row.kid)!.privateJwk
      expect(row.private_jwk).not.toContain(d)
      expect(row.private_jwk).not.toContain('"d"')
    }
    const user = await createPasswordUser(t.core, OPERATOR, 'sealed')
    const other = await openAnother(t)
    const {tokens} = await loginAs(other, user.email)
    await expect(t.core.authenticator.authenticate(tokens.accessToken)).resolves.toMatchObject({userId: user.id})
  })

  it('keys stored in the clear by an earlier version still work, and are sealed in place when a daemon starts', async () => {
    const t = await testCore(dialect)
    const legacy = await generateSigningKey(t.clock)
    await t.core.database.db
      .insertInto('signing_key')
      .values({kid: legacy.kid, algorithm: 'ES256', public_jwk: JSON.stringify(legacy.publicJwk), private_jwk: JSON.stringify(legacy.privateJwk), created_at: legacy.createdAt.toISOString(), retired_at: null})
      .execute()
    expect((await t.core.signingKeys.loadTrustedKeys())[0]!.privateJwk).toEqual(legacy.privateJwk)
    await t.core.signingKeys.ensureActiveKey(SYSTEM_ACTOR)
    const [row] = await storedPrivateKeys(t.core)
    expect(row).toMatchObject({kid: legacy.kid, private_jwk: expect.stringMatching(/^enc:v1:/)})
    expect((await t.core.signingKeys.loadTrustedKeys())[0]!.privateJwk).toEqual(legacy.privateJwk)
  })

  it('a different secret_key cannot open them: secret_key.invalid, not a silent new key', async () => {
    const t = await testCore(dialect)
    await t.core.signingKeys.ensureActiveKey(SYSTEM_ACTOR)
    const other = await openAnother(t, {secretKey: OTHER_SECRET_KEY})
    await expect(other.signingKeys.loadTrustedKeys()).rejects.toMatchObject({code: 'secret_key.invalid'})
  })
})

describe('identity: the secret key per dialect', () => {
  it('SQLite without secret_key: the first process creates <db>.secret-key 0600, later ones read it', async () => {
    const t = await testCore('sqlite')
    const keyFile = secretKeyFileOf(path.resolve(t.database.url))
    await t.core.signingKeys.ensureActiveKey(SYSTEM_ACTOR)
    expect(statSync(keyFile).mode & 0o777).toBe(0o600)
    const user = await createPasswordUser(t.core, OPERATOR, 'keyfile')
    const other = await openAnother(t)
    const {tokens} = await loginAs(other, user.email)
    await expect(t.core.authenticator.authenticate(tokens.accessToken)).resolves.toMatchObject({userId: user.id})
  })

  it('SQLite: the database and its -wal and -shm files are created 0600', async () => {
    const t = await testCore('sqlite')
    await createPasswordUser(t.core, OPERATOR, 'private-files')
    const file = path.resolve(t.database.url)
    for (const name of [file, `${file}-wal`, `${file}-shm`]) expect({name, mode: statSync(name).mode & 0o777}).toEqual({name, mode: 0o600})
  })

  it.skipIf(!TEST_POSTGRES_URL)('Postgres without secret_key: making or reading a private key refuses with secret_key.required', async () => {
    const database = await createTestDatabase('postgres')
    cleanups.push(() => database.drop())
    const core = await createCore({config: testConfig(database.url, {secretKey: undefined}), cwd: process.cwd(), passwords: FAST_PASSWORD_HASHER, schema: 'migrate'})
    cleanups.push(() => core.close())
    await expect(core.signingKeys.ensureActiveKey(SYSTEM_ACTOR)).rejects.toMatchObject({code: 'secret_key.required'})
    expect(await core.signingKeys.listKeys()).toEqual([])
    // Nothing else needs it: the CLI's other commands work without it.
    await expect(createPasswordUser(core, OPERATOR, 'no-secret')).resolves.toMatchObject({email: expect.any(String)})
  })
})
