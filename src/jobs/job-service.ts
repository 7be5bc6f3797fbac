import type {Kysely} from 'kysely'
import type {Database} from '../db/database.js'
import {DomainError} from '../errors/domain-error.js'
import {purgeExpiredRevocations} from '../identity/revocation-log.js'
import type {SigningKeyStore} from '../identity/signing-key-store.js'
import {nowIso, type ServiceDeps} from '../shared/service-deps.js'

export interface JobDefinition {
  name: string
  description: string
  run(): Promise<Record<string, number>>
}

export interface JobStatus {
  name: string
  description: string
  lastTickAt: string | null
  lastStartedAt: string | null
  lastFinishedAt: string | null
  lastResult: unknown
  holder: string | null
}

export type JobRun = {ran: true; result: Record<string, number>} | {ran: false; reason: 'tick_claimed_elsewhere'}

export type JobService = ReturnType<typeof createJobService>

/**
 * The background cleanup jobs and their bookkeeping. The daemon schedules them; with several
 * daemons on one database, each scheduled tick is claimed by exactly one of them.
 */
export function createJobService(deps: ServiceDeps & {signingKeys: SigningKeyStore; accessTokenTtlSeconds: number}) {
  const {db} = deps

  const jobs: JobDefinition[] = [
    {
      name: 'purge-revocations',
      description: 'Delete revocation-log entries whose tokens have all expired',
      run: async () => ({revocations_deleted: await purgeExpiredRevocations(db, nowIso(deps))}),
    },
    {
      name: 'purge-sessions',
      description: 'Delete expired sessions, sessions revoked longer than a token lifetime ago, and their refresh tokens; delete expired refresh tokens',
      run: async () => purgeSessions(db, nowIso(deps), deps.accessTokenTtlSeconds),
    },
    {
      name: 'purge-signing-keys',
      description: 'Delete retired signing keys no live token can need',
      run: async () => ({signing_keys_deleted: await deps.signingKeys.purgeExpiredKeys()}),
    },
  ]

  function requireJob(name: string): JobDefinition {
    const job = jobs.find((candidate) => candidate.name === name)
    if (!job) throw new DomainError('job.not_found', `No job "${name}" (jobs: ${jobs.map((candidate) => candidate.name).join(', ')})`)
    return job
  }

  async function execute(job: JobDefinition, holder: string): Promise<Record<string, number>> {
    const startedAt = nowIso(deps)
    await db.updateTable('job_lease').set({last_started_at: startedAt, holder}).where('name', '=', job.name).execute()
    let result: Record<string, number> | {error: string}
    try {
      result = await job.run()
      return result
    } catch (error) {
      result = {error: (error as Error).message}
      throw error
    } finally {
      await db.updateTable('job_lease').set({last_finished_at: nowIso(deps), last_result: JSON.stringify(result!)}).where('name', '=', job.name).execute()
    }
  }

  async function ensureLeaseRow(name: string): Promise<void> {
    await db.insertInto('job_lease').values({name, holder: null, last_tick_at: null, last_started_at: null, last_finished_at: null, last_result: null}).onConflict((oc) => oc.column('name').doNothing()).execute()
  }

  return {
    /** Features add their own cleanup jobs (createCore calls it; the daemon schedules every job). */
    register(job: JobDefinition): void {
      if (jobs.some((existing) => existing.name === job.name)) throw new Error(`job ${job.name} registered twice`)
      jobs.push(job)
    },
    jobNames: () => jobs.map((job) => job.name),

    async listJobs(): Promise<JobStatus[]> {
      const rows = await db.selectFrom('job_lease').selectAll().execute()
      return jobs.map((job) => {
        const row = rows.find((candidate) => candidate.name === job.name)
        return {
          name: job.name,
          description: job.description,
          lastTickAt: row?.last_tick_at ?? null,
          lastStartedAt: row?.last_started_at ?? null,
          lastFinishedAt: row?.last_finished_at ?? null,
          lastResult: row?.last_result ? JSON.parse(row.last_result) : null,
          holder: row?.holder ?? null,
        }
      })
    },

    /** Runs a job now, by hand, whatever the schedule. Raises job.not_found. */
    async runNow(name: string, holder: string): Promise<Record<string, number>> {
      const job = requireJob(name)
      await ensureLeaseRow(job.name)
      return execute(job, holder)
    },

    /**
     * Runs a job for one scheduled tick, unless another process already claimed that tick:
     * the claim is one conditional update, so exactly one daemon wins it.
     */
    async runScheduled(name: string, tick: Date, holder: string): Promise<JobRun> {
      const job = requireJob(name)
      await ensureLeaseRow(job.name)
      const tickIso = new Date(Math.round(tick.getTime() / 1000) * 1000).toISOString()
      const claim = await db
        .updateTable('job_lease')
        .set({last_tick_at: tickIso, holder})
        .where('name', '=', job.name)
        .where((eb) => eb.or([eb('last_tick_at', 'is', null), eb('last_tick_at', '<', tickIso)]))
        .executeTakeFirst()
      if (Number(claim.numUpdatedRows) === 0) return {ran: false, reason: 'tick_claimed_elsewhere'}
      return {ran: true, result: await execute(job, holder)}
    },
  }
}

async function purgeSessions(db: Kysely<Database>, now: string, accessTokenTtlSeconds: number): Promise<Record<string, number>> {
  const revokedBefore = new Date(Date.parse(now) - accessTokenTtlSeconds * 1000).toISOString()
  return db.transaction().execute(async (tx) => {
    const finished = tx
      .selectFrom('session')
      .select('id')
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb('revoked_at', '<=', revokedBefore)]))
    const tokensOfFinished = await tx.deleteFrom('refresh_token').where('session_id', 'in', finished).executeTakeFirst()
    const expiredTokens = await tx.deleteFrom('refresh_token').where('expires_at', '<=', now).executeTakeFirst()
    const sessions = await tx
      .deleteFrom('session')
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb('revoked_at', '<=', revokedBefore)]))
      .executeTakeFirst()
    return {sessions_deleted: Number(sessions.numDeletedRows), refresh_tokens_deleted: Number(tokensOfFinished.numDeletedRows) + Number(expiredTokens.numDeletedRows)}
  })
}
