import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {DialectName} from '../../../src/db/database-url.js'
import {createRevocationCache} from '../../../src/identity/revocation-cache.js'
import {ISSUED_AT_LEEWAY_SECONDS} from '../../../src/security/access-tokens.js'
import {OPERATOR} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {
  ACCESS_TOKEN_TTL_MS,
  CONTEXT,
  createIdentityTestCore,
  createPasswordUser,
  followRevocations,
  loginAs,
  openSecondProcess,
  REFRESH_TOKEN_TTL_MS,
  SECOND,
  type IdentityTestCore,
  type SecondProcess,
} from './identity-fixture.js'

// A revocation entry outlives every token accepted now: a lifetime, plus the leeway an iat may lie ahead.
const REVOCATION_KEPT_MS = ACCESS_TOKEN_TTL_MS + ISSUED_AT_LEEWAY_SECONDS * SECOND

const JOB_NAMES = ['purge-revocations', 'purge-sessions', 'purge-signing-keys']

/** Runs a test on a core of its own, so row counts are exact. */
async function withFreshCore(dialect: DialectName, test: (t: IdentityTestCore) => Promise<void>): Promise<void> {
  const t = await createIdentityTestCore(dialect)
  try {
    await test(t)
  } finally {
    await t.close()
  }
}

describeEachDialect('identity: background jobs', (dialect) => {
  describe('scheduling', () => {
    let t: IdentityTestCore
    let other: SecondProcess
    beforeAll(async () => {
      t = await createIdentityTestCore(dialect)
      other = await openSecondProcess(t)
    })
    afterAll(async () => {
      await other?.close()
      await t?.close()
    })

    it('lists every job, never run', async () => {
      const jobs = await t.core.jobs.listJobs()
      // The built-in jobs first, then those features register (purge-mail, …).
      expect(jobs.map((job) => job.name)).toEqual(t.core.jobs.jobNames())
      expect(t.core.jobs.jobNames().slice(0, JOB_NAMES.length)).toEqual(JOB_NAMES)
      expect(t.core.jobs.jobNames()).toContain('purge-mail')
      for (const job of jobs) expect(job).toMatchObject({lastTickAt: null, lastStartedAt: null, lastFinishedAt: null, lastResult: null, holder: null})
    })

    it('runs a scheduled tick in exactly one of two processes; the next tick runs again', async () => {
      const tick = new Date('2026-01-01T00:05:00.000Z')
      const runs = await Promise.all([t.core.jobs.runScheduled('purge-sessions', tick, 'daemon-a'), other.core.jobs.runScheduled('purge-sessions', tick, 'daemon-b')])
      expect(runs.filter((run) => run.ran)).toHaveLength(1)
      expect(runs.find((run) => !run.ran)).toEqual({ran: false, reason: 'tick_claimed_elsewhere'})
      const winner = runs[0]!.ran ? 'daemon-a' : 'daemon-b'

      // The same tick, later, from either: already claimed.
      expect(await t.core.jobs.runScheduled('purge-sessions', tick, 'daemon-a')).toEqual({ran: false, reason: 'tick_claimed_elsewhere'})
      expect(await other.core.jobs.runScheduled('purge-sessions', tick, 'daemon-b')).toEqual({ran: false, reason: 'tick_claimed_elsewhere'})
      // An older tick (a late process) does not run either.
      expect(await other.core.jobs.runScheduled('purge-sessions', new Date(tick.getTime() - 60_000), 'daemon-b')).toMatchObject({ran: false})

      const [job] = (await t.core.jobs.listJobs()).filter((candidate) => candidate.name === 'purge-sessions')
      expect(job).toMatchObject({lastTickAt: tick.toISOString(), holder: winner, lastResult: {sessions_deleted: 0, refresh_tokens_deleted: 0}})

      const nextTick = new Date(tick.getTime() + 60_000)
      const next = await Promise.all([other.core.jobs.runScheduled('purge-sessions', nextTick, 'daemon-b'), t.core.jobs.runScheduled('purge-sessions', nextTick, 'daemon-a')])
      expect(next.filter((run) => run.ran)).toEqual([{ran: true, result: {sessions_deleted: 0, refresh_tokens_deleted: 0}}])
    })

    it('claims each job\'s ticks separately', async () => {
      const tick = new Date('2026-01-01T00:10:00.000Z')
      expect(await t.core.jobs.runScheduled('purge-revocations', tick, 'daemon-a')).toMatchObject({ran: true})
      expect(await other.core.jobs.runScheduled('purge-signing-keys', tick, 'daemon-b')).toMatchObject({ran: true})
      expect(await other.core.jobs.runScheduled('purge-revocations', tick, 'daemon-b')).toMatchObject({ran: false})
    })

    it('runNow always runs, whatever the schedule, and records the result', async () => {
      t.clock.advance(7 * SECOND)
      expect(await t.core.jobs.runNow('purge-signing-keys', 'cli')).toEqual({signing_keys_deleted: 0})
      expect(await other.core.jobs.runNow('purge-signing-keys', 'cli-2')).toEqual({signing_keys_deleted: 0})
      const [job] = (await t.core.jobs.listJobs()).filter((candidate) => candidate.name === 'purge-signing-keys')
      expect(job).toMatchObject({holder: 'cli-2', lastStartedAt: t.clock.now().toISOString(), lastFinishedAt: t.clock.now().toISOString(), lastResult: {signing_keys_deleted: 0}})
    })

    it('refuses an unknown job with job.not_found', async () => {
      await expect(t.core.jobs.runNow('purge-everything', 'cli')).rejects.toMatchObject({code: 'job.not_found'})
      await expect(t.core.jobs.runScheduled('purge-everything', new Date(), 'daemon-a')).rejects.toMatchObject({code: 'job.not_found'})
      expect((await t.core.jobs.listJobs()).map((job) => job.name)).toEqual(t.core.jobs.jobNames())
    })
  })

  describe('purge-revocations', () => {
    it('deletes revocations whose tokens have all expired, but always keeps the newest', async () => {
      await withFreshCore(dialect, async (t) => {
        const db = t.core.database.db
        const seqs = async () => (await db.selectFrom('revocation').select('seq').orderBy('seq').execute()).map((row) => row.seq)
        const user = await createPasswordUser(t.core, OPERATOR, 'purge-rev')
        const early = [await loginAs(t.core, user.email), await loginAs(t.core, user.email)]
        for (const login of early) await t.core.sessions.logout(login.auth, CONTEXT)
        t.clock.advance(REVOCATION_KEPT_MS + SECOND)
        const late = await loginAs(t.core, user.email)
        await t.core.sessions.logout(late.auth, CONTEXT)
        expect(await seqs()).toEqual([1, 2, 3])

        expect(await t.core.jobs.runNow('purge-revocations', 'cli')).toEqual({revocations_deleted: 2})
        expect(await seqs()).toEqual([3])

        // Past its expiry too, the newest survives, so the sequence never restarts.
        t.clock.advance(REVOCATION_KEPT_MS + SECOND)
        expect(await t.core.jobs.runNow('purge-revocations', 'cli')).toEqual({revocations_deleted: 0})
        expect(await seqs()).toEqual([3])
        const cache = createRevocationCache(t.clock)
        const follower = await followRevocations(t.core, cache, t.clock)
        try {
          expect(follower.appliedSeq()).toBe(3)
          expect(cache.size()).toBe(0)
          const next = await loginAs(t.core, user.email)
          await t.core.sessions.logout(next.auth, CONTEXT)
          expect(await seqs()).toEqual([3, 4])
          await follower.syncNow()
          expect(cache.findRevocation({jti: next.auth.jti, sid: next.auth.sessionId, sub: user.id, iat: next.auth.issuedAt})).toBe('session_revoked')
        } finally {
          await follower.stop()
        }
        expect((await t.core.jobs.listJobs()).find((job) => job.name === 'purge-revocations')?.lastResult).toEqual({revocations_deleted: 0})
      })
    })
  })

  describe('purge-sessions', () => {
    it('deletes expired sessions, sessions revoked longer than a token lifetime ago, their refresh tokens, and expired refresh tokens', async () => {
      await withFreshCore(dialect, async (t) => {
        const db = t.core.database.db
        const refresh = (refreshToken: string) => t.core.sessions.refresh(CONTEXT, {refreshToken})
        const user = await createPasswordUser(t.core, OPERATOR, 'purge-sessions')

        const expired = await loginAs(t.core, user.email)
        const live = await loginAs(t.core, user.email)
        t.clock.advance(REFRESH_TOKEN_TTL_MS - 1000 * SECOND)
        // Refreshed: the session lives on, its first refresh token will expire on its own.
        const liveRefreshed = await refresh(live.tokens.refreshToken)
        const revokedLongAgo = await loginAs(t.core, user.email)
        await t.core.sessions.logout(revokedLongAgo.auth, CONTEXT)
        t.clock.advance(1000 * SECOND + SECOND)
        const revokedJustNow = await loginAs(t.core, user.email)
        await t.core.sessions.logout(revokedJustNow.auth, CONTEXT)

        expect(await t.core.jobs.runNow('purge-sessions', 'cli')).toEqual({sessions_deleted: 2, refresh_tokens_deleted: 3})

        const sessions = await db.selectFrom('session').select('id').orderBy('id').execute()
        expect(sessions.map((row) => row.id).sort()).toEqual([live.tokens.sessionId, revokedJustNow.tokens.sessionId].sort())
        const tokens = await db.selectFrom('refresh_token').select('session_id').execute()
        expect(tokens.map((row) => row.session_id).sort()).toEqual([live.tokens.sessionId, revokedJustNow.tokens.sessionId].sort())
        expect(await t.core.sessions.listSessions(OPERATOR, {user: user.id})).toEqual([expect.objectContaining({id: live.tokens.sessionId})])
        // The surviving session still refreshes; the purged one's token is simply unknown.
        await expect(refresh(liveRefreshed.refreshToken)).resolves.toMatchObject({sessionId: live.tokens.sessionId})
        await expect(refresh(expired.tokens.refreshToken)).rejects.toMatchObject({code: 'auth.invalid_refresh_token'})

        expect(await t.core.jobs.runNow('purge-sessions', 'cli')).toEqual({sessions_deleted: 0, refresh_tokens_deleted: 0})
      })
    })
  })

  describe('purge-signing-keys', () => {
    it('deletes a retired key once its trust window has passed', async () => {
      await withFreshCore(dialect, async (t) => {
        t.clock.advance(SECOND)
        await t.core.signingKeys.rotate(OPERATOR)
        expect(await t.core.jobs.runNow('purge-signing-keys', 'cli')).toEqual({signing_keys_deleted: 0})
        t.clock.advance(ACCESS_TOKEN_TTL_MS)
        expect(await t.core.jobs.runScheduled('purge-signing-keys', t.clock.now(), 'daemon-a')).toEqual({ran: true, result: {signing_keys_deleted: 1}})
        expect((await t.core.signingKeys.listKeys()).map((key) => key.status)).toEqual(['active'])
      })
    })
  })
})
