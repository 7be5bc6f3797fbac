import {decodeProtectedHeader} from 'jose'
import {sql} from 'kysely'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {SYSTEM_ACTOR} from '../../../src/access/principal.js'
import {lockAuditChain} from '../../../src/db/dialect-helpers.js'
import {createTestCore, OPERATOR} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {ACCESS_TOKEN_TTL_MS, auditActionsAfter, createIdentityTestCore, createPasswordUser, expectTokenRefused, loginAs, openSecondProcess, SECOND, type IdentityTestCore} from './identity-fixture.js'

const kidOf = (token: string) => decodeProtectedHeader(token).kid

describeEachDialect('identity: signing keys', (dialect) => {
  describe('the first key', () => {
    it('ensureActiveKey creates one key, once', async () => {
      const t = await createTestCore(dialect)
      try {
        expect(await t.core.signingKeys.listKeys()).toEqual([])
        await t.core.signingKeys.ensureActiveKey(SYSTEM_ACTOR)
        await t.core.signingKeys.ensureActiveKey(SYSTEM_ACTOR)
        const keys = await t.core.signingKeys.listKeys()
        expect(keys).toEqual([{kid: expect.any(String), algorithm: 'ES256', status: 'active', createdAt: t.clock.now().toISOString(), retiredAt: null, publishedUntil: null}])
        expect(await auditActionsAfter(t.core, 0, 'key.created')).toEqual(['key.created'])
        // Nothing of the private key leaves through the listing.
        expect(JSON.stringify(keys)).not.toMatch(/"d"|private/)
      } finally {
        await t.close()
      }
    })

    it('two processes starting at once on an empty database end up with one active key', async () => {
      const t = await createTestCore(dialect)
      const second = await openSecondProcess(t)
      const third = await openSecondProcess(t)
      try {
        const startBoth = () => Promise.all([t.core.signingKeys.ensureActiveKey(SYSTEM_ACTOR), second.core.signingKeys.ensureActiveKey(SYSTEM_ACTOR)])
        if (dialect === 'postgres') {
          // A third process is busy appending to the audit chain (any audited change) while
          // both start: this only widens the window in which their transactions overlap.
          // (On SQLite, write transactions are exclusive, and better-sqlite3 would wait for a
          // lock held in this same process by blocking it, so there it simply races.)
          let release!: () => void
          const released = new Promise<void>((resolve) => {
            release = resolve
          })
          let signalHeld!: () => void
          const held = new Promise<void>((resolve) => {
            signalHeld = resolve
          })
          const appending = third.core.database.db.transaction().execute(async (trx) => {
            await lockAuditChain(trx)
            signalHeld()
            await released
          })
          await held
          const starting = startBoth()
          const deadline = Date.now() + 2000
          while (Date.now() < deadline) {
            const {rows} = await sql<{waiting: number}>`select count(*)::int as waiting from pg_locks where locktype = 'advisory' and not granted`.execute(third.core.database.db)
            if (rows[0]!.waiting >= 2) break
            await new Promise((resolve) => setTimeout(resolve, 10))
          }
          release()
          await appending
          await starting
        } else {
          await startBoth()
        }
        expect((await t.core.signingKeys.listKeys()).filter((key) => key.status === 'active')).toHaveLength(1)
      } finally {
        await third.close()
        await second.close()
        await t.close()
      }
    })
  })

  describe('rotation', () => {
    let t: IdentityTestCore
    beforeAll(async () => {
      t = await createIdentityTestCore(dialect)
    })
    afterAll(async () => t?.close())

    let firstKid: string
    let secondKid: string
    let tokenOfFirstKey: string

    it('keeps the previous key trusted and published, here and in another process that already loaded its keys', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'rotation')
      const [first] = await t.core.signingKeys.listKeys()
      firstKid = first!.kid
      tokenOfFirstKey = (await loginAs(t.core, user.email)).tokens.accessToken
      expect(kidOf(tokenOfFirstKey)).toBe(firstKid)

      const other = await openSecondProcess(t)
      try {
        // The other process loads its key ring now, before the rotation.
        expect(await other.core.authenticator.authenticate(tokenOfFirstKey)).toMatchObject({userId: user.id})

        t.clock.advance(SECOND)
        const before = await t.core.audit.latestSeq()
        const rotated = await t.core.signingKeys.rotate(OPERATOR)
        secondKid = rotated.kid
        expect(rotated).toMatchObject({algorithm: 'ES256', status: 'active', retiredAt: null})
        expect(secondKid).not.toBe(firstKid)
        const now = t.clock.now()
        expect(await t.core.signingKeys.listKeys()).toEqual([
          expect.objectContaining({kid: secondKid, status: 'active', retiredAt: null, publishedUntil: null}),
          expect.objectContaining({kid: firstKid, status: 'retired', retiredAt: now.toISOString(), publishedUntil: new Date(now.getTime() + ACCESS_TOKEN_TTL_MS).toISOString()}),
        ])
        const events = await t.core.audit.listEventsAfter({afterSeq: before})
        expect(events).toEqual([expect.objectContaining({action: 'key.rotated', target: {type: 'signing_key', id: secondKid}, metadata: expect.objectContaining({retired: [firstKid]})})])

        // The daemon that rotated reloads its ring and signs with the new key.
        await t.core.keyProvider.reload()
        t.clock.advance(SECOND)
        const tokenOfSecondKey = (await loginAs(t.core, user.email)).tokens.accessToken
        expect(kidOf(tokenOfSecondKey)).toBe(secondKid)

        // The other process meets an unknown kid, reloads, and trusts both keys.
        expect(await other.core.authenticator.authenticate(tokenOfSecondKey)).toMatchObject({userId: user.id})
        expect(await other.core.authenticator.authenticate(tokenOfFirstKey)).toMatchObject({userId: user.id})
        expect(await t.core.authenticator.authenticate(tokenOfFirstKey)).toMatchObject({userId: user.id})

        for (const jwks of [await t.core.keyProvider.publicJwks(), await other.core.keyProvider.publicJwks()]) {
          expect(jwks.keys.map((key) => key.kid)).toEqual([secondKid, firstKid])
          for (const key of jwks.keys) {
            expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'])
            expect(key).toMatchObject({kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig'})
            expect(key).not.toHaveProperty('d')
          }
        }
      } finally {
        await other.close()
      }
    })

    it('a process that never loaded the keys before the rotation verifies tokens of both keys', async () => {
      const fresh = await openSecondProcess(t)
      try {
        expect(await fresh.core.authenticator.authenticate(tokenOfFirstKey)).toMatchObject({jti: expect.any(String)})
        expect((await fresh.core.keyProvider.publicJwks()).keys.map((key) => key.kid)).toEqual([secondKid, firstKid])
      } finally {
        await fresh.close()
      }
    })

    it('purgeExpiredKeys deletes the retired key once every token it signed has expired', async () => {
      expect(await t.core.signingKeys.purgeExpiredKeys()).toBe(0)
      t.clock.advance(ACCESS_TOKEN_TTL_MS)
      // Past the trust window the process reloads its keys: the retired key is no longer trusted.
      await expectTokenRefused(t.core, tokenOfFirstKey, /^(expired|unknown_key)$/)
      expect((await t.core.keyProvider.publicJwks()).keys.map((key) => key.kid)).toEqual([secondKid])
      // No longer published by a process that loads its keys now, even before the purge.
      const fresh = await openSecondProcess(t)
      try {
        expect((await fresh.core.keyProvider.publicJwks()).keys.map((key) => key.kid)).toEqual([secondKid])
      } finally {
        await fresh.close()
      }
      expect(await t.core.signingKeys.purgeExpiredKeys()).toBe(1)
      expect((await t.core.signingKeys.listKeys()).map((key) => key.kid)).toEqual([secondKid])
      expect(await t.core.signingKeys.purgeExpiredKeys()).toBe(0)
      const user = await createPasswordUser(t.core, OPERATOR, 'after-purge')
      const {tokens} = await loginAs(t.core, user.email)
      expect(kidOf(tokens.accessToken)).toBe(secondKid)
    })

    it('the process that rotates signs new tokens with the new key', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'rotate-here')
      await loginAs(t.core, user.email)
      const rotated = await t.core.signingKeys.rotate(OPERATOR)
      const {tokens} = await loginAs(t.core, user.email)
      expect(kidOf(tokens.accessToken)).toBe(rotated.kid)
    })

    it('after another process (the CLI) rotated, this process\'s new tokens still verify elsewhere once the old key\'s trust window ended', async () => {
      const user = await createPasswordUser(t.core, OPERATOR, 'rotate-elsewhere')
      await t.core.keyProvider.reload()
      await loginAs(t.core, user.email)
      const cli = await openSecondProcess(t)
      let rotatedKid: string
      try {
        rotatedKid = (await cli.core.signingKeys.rotate(OPERATOR)).kid
      } finally {
        await cli.close()
      }
      t.clock.advance(ACCESS_TOKEN_TTL_MS + SECOND)
      const {tokens} = await loginAs(t.core, user.email)
      const verifier = await openSecondProcess(t)
      try {
        // 'accepted', or the reason the other process refuses it.
        const outcome = await verifier.core.authenticator.authenticate(tokens.accessToken).then(
          () => 'accepted',
          (error: {details?: {reason?: string}}) => error.details?.reason,
        )
        expect(outcome).toBe('accepted')
        expect(kidOf(tokens.accessToken)).toBe(rotatedKid)
      } finally {
        await verifier.close()
      }
    })
  })
})
