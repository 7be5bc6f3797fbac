import {Agent, request as httpRequest} from 'node:http'
import {sql} from 'kysely'
import {getTasks} from 'node-cron'
import {v7 as uuidv7} from 'uuid'
import {expect, it} from 'vitest'
import {z} from 'zod'
import {createLogger} from '../../daemon/logger.js'
import {defineRoute, type AnyRoute} from '../../daemon/openapi/route.js'
import {startDaemon} from '../../daemon/start-daemon.js'
import type {Core} from '../../src/core.js'
import {appendRevocations} from '../../src/identity/revocation-log.js'
import {waitUntil} from '../helpers/daemon-process.js'
import {createTestCore, testConfig} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {request, startTestDaemon} from './http-harness.js'

/** Logs a token revocation the way another process would: in the log only, no signal to this one. */
async function revokeTokenElsewhere(core: Core): Promise<void> {
  const now = core.clock.now()
  const entry = {kind: 'token' as const, subject: uuidv7(), reason: 'test', createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + 3_600_000).toISOString()}
  await core.database.db.transaction().execute((trx) => appendRevocations(trx, [entry]))
}

const cleanupTaskCount = () => [...getTasks().values()].filter((task) => task.name?.startsWith('saasctl-')).length

/** A route that answers only when the test says so; `entered` settles when a request reaches it. */
function slowRoute() {
  let markEntered!: () => void
  let release!: () => void
  const entered = new Promise<void>((resolve) => {
    markEntered = resolve
  })
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  const events: string[] = []
  const route: AnyRoute = defineRoute({
    method: 'get',
    path: '/test/slow',
    summary: 'Wait for the test',
    responses: {200: {description: 'Done', schema: z.object({done: z.literal(true)})}},
    async handle() {
      markEntered()
      await released
      events.push('request finished')
      return {body: {done: true}}
    },
  })
  return {route, entered, release, events}
}

describeEachDialect('daemon graceful shutdown', (dialect) => {
  it('finishes a request in flight, refuses new connections meanwhile, then stops background tasks and closes the database', async () => {
    const slow = slowRoute()
    const daemon = await startTestDaemon(dialect, {
      routes: [slow.route],
      backgroundTasks: [{name: 'cron', stop: async () => void slow.events.push('cron stopped')}],
    })
    daemon.running.addShutdownHook({name: 'follower', stop: () => void slow.events.push('follower stopped')})
    const db = daemon.testCore.core.database.db
    try {
      const inFlight = request(`${daemon.url}/test/slow`)
      await slow.entered
      const closing = daemon.running.close()
      await expect(fetch(`${daemon.url}/health`)).rejects.toThrow()
      await new Promise((resolve) => setTimeout(resolve, 150))
      expect(slow.events).toEqual([])
      await expect(sql`select 1 as one`.execute(db)).resolves.toBeDefined()

      slow.release()
      const response = await inFlight
      expect(response.status).toBe(200)
      expect(response.json).toEqual({done: true})
      // The in-flight request's keep-alive connection turns idle now; shutdown must not wait for its timeout.
      const answeredAt = Date.now()
      await closing
      expect(Date.now() - answeredAt).toBeLessThan(1000)
      expect(slow.events).toEqual(['request finished', 'cron stopped', 'follower stopped'])
      await expect(sql`select 1 as one`.execute(db)).rejects.toThrow()
      expect(daemon.logs().map((line) => line.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']))
    } finally {
      slow.release()
      await daemon.close()
    }
  })

  it('does not wait for idle keep-alive connections', async () => {
    const daemon = await startTestDaemon(dialect, {shutdownTimeoutMs: 5000})
    const agent = new Agent({keepAlive: true})
    try {
      const socketClosed = new Promise<void>((resolve, reject) => {
        const outgoing = httpRequest(`${daemon.url}/health`, {agent}, (response) => {
          response.resume()
          response.on('end', () => {
            expect(response.headers.connection).toBe('keep-alive')
            outgoing.socket?.once('close', () => resolve())
          })
        })
        outgoing.on('error', reject)
        outgoing.end()
      })
      await new Promise((resolve) => setTimeout(resolve, 50))
      const startedAt = Date.now()
      await daemon.running.close()
      expect(Date.now() - startedAt).toBeLessThan(1000)
      await socketClosed
    } finally {
      agent.destroy()
      await daemon.close()
    }
  })

  it('cuts requests that outlive the shutdown timeout, and still closes the database', async () => {
    const slow = slowRoute()
    const daemon = await startTestDaemon(dialect, {routes: [slow.route], shutdownTimeoutMs: 300})
    try {
      // The rejection is observed from the start, so it is never reported as unhandled.
      const inFlight = fetch(`${daemon.url}/test/slow`).then(
        () => 'answered',
        () => 'cut',
      )
      await slow.entered
      const startedAt = Date.now()
      await daemon.running.close()
      expect(Date.now() - startedAt).toBeLessThan(2000)
      expect(await inFlight).toBe('cut')
      await expect(sql`select 1 as one`.execute(daemon.testCore.core.database.db)).rejects.toThrow()
      expect(daemon.logs().some((line) => line.level === 'warn' && /did not finish in time/.test(line.msg))).toBe(true)
      expect(daemon.logs().find((line) => line.msg === 'request' && line.route === '/test/slow')).toMatchObject({level: 'warn', aborted: true, status: null})
    } finally {
      slow.release()
      await daemon.close()
    }
  })

  it('goes on when a background task fails to stop, and logs it', async () => {
    const daemon = await startTestDaemon(dialect, {
      backgroundTasks: [
        {
          name: 'broken',
          stop: () => {
            throw new Error('cannot stop')
          },
        },
      ],
    })
    try {
      await daemon.running.close()
      await expect(sql`select 1 as one`.execute(daemon.testCore.core.database.db)).rejects.toThrow()
      expect(daemon.logs().find((line) => line.msg === 'background task failed to stop')).toMatchObject({task: 'broken', err: {message: 'cannot stop'}})
    } finally {
      await daemon.close()
    }
  })

  it('close() is idempotent: every caller waits for the one shutdown', async () => {
    const daemon = await startTestDaemon(dialect)
    const first = daemon.running.close()
    const second = daemon.running.close()
    await Promise.all([first, second, daemon.running.closed])
    expect(daemon.logs().filter((line) => line.msg === 'shutting down')).toHaveLength(1)
    await daemon.close()
  })

  it('startDaemon: loads the revocations logged before it started, follows new ones, runs the cleanup jobs, and stops them all at shutdown', async () => {
    const testCore = await createTestCore(dialect)
    const {core} = testCore
    const config = testConfig(testCore.database.url, {host: '127.0.0.1', port: 0, revocationPollMs: 50})
    const jobsBefore = cleanupTaskCount()
    try {
      await revokeTokenElsewhere(core)
      const running = await startDaemon(core, config, {logger: createLogger({level: 'silent'})})
      expect(core.revocations.size()).toBe(1)
      expect(cleanupTaskCount()).toBe(jobsBefore + core.jobs.jobNames().length)
      expect((await request(`${running.url}/health`)).status).toBe(200)
      // The signing key is ready before the first request: the JWKS publishes it.
      expect((await request(`${running.url}/.well-known/jwks.json`)).json.keys).toHaveLength(1)

      await revokeTokenElsewhere(core)
      await waitUntil(async () => core.revocations.size() === 2, 2_000)

      await running.close()
      expect(cleanupTaskCount()).toBe(jobsBefore)
      await expect(sql`select 1 as one`.execute(core.database.db)).rejects.toThrow()
    } finally {
      // startDaemon owns the core and closed it; closing again may throw, the drop must still run.
      await core.close().catch(() => {})
      await testCore.database.drop()
    }
  })

  it('startDaemon: a port in use is daemon.listen_failed, with the jobs stopped and the database closed', async () => {
    const first = await startTestDaemon(dialect)
    const testCore = await createTestCore(dialect)
    const jobsBefore = cleanupTaskCount()
    try {
      const config = testConfig(testCore.database.url, {host: '127.0.0.1', port: first.running.port})
      await expect(startDaemon(testCore.core, config, {logger: createLogger({level: 'silent'})})).rejects.toMatchObject({code: 'daemon.listen_failed'})
      expect(cleanupTaskCount()).toBe(jobsBefore)
      await expect(sql`select 1 as one`.execute(testCore.core.database.db)).rejects.toThrow()
    } finally {
      await testCore.core.close().catch(() => {})
      await testCore.database.drop()
      await first.close()
    }
  })
})
