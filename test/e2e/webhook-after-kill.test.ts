import {once} from 'node:events'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, expect, it} from 'vitest'
import {parseDatabaseUrl} from '../../src/db/database-url.js'
import {openDatabase, type OpenedDatabase} from '../../src/db/open-database.js'
import {startDaemonProcess, waitUntil, type DaemonProcess} from '../helpers/daemon-process.js'
import {createCliDatabase} from '../helpers/run-cli.js'
import {describeEachDialect, type TestDatabase} from '../helpers/test-database.js'
import {startWebhookReceiver, verifyWithStandardWebhooks, type WebhookReceiver} from '../helpers/webhook-receiver.js'

// A daemon killed in the middle of a send (the receiver holds the request open) loses nothing:
// the claim expires and the restarted daemon sends the event again with the same webhook-id.
describeEachDialect('webhooks outlive a killed daemon', (dialect) => {
  let database: TestDatabase | undefined
  let daemon: DaemonProcess | undefined
  let receiver: WebhookReceiver | undefined
  let db: OpenedDatabase | undefined
  afterEach(async () => {
    await daemon?.stop()
    await db?.close()
    await receiver?.stop()
    await database?.drop()
  })

  it('SIGKILL mid-delivery: after the restart the event arrives, with the same webhook-id, accepted once', async () => {
    let cli
    ;({database, cli} = await createCliDatabase(dialect))
    receiver = await startWebhookReceiver()
    writeFileSync(path.join(cli.cwd, 'saas-ctl.config.json'), JSON.stringify({webhook_allow_private: true}), {mode: 0o600})
    // A 3 s deadline per attempt: its claim (2 × 3 s + 5 s) expires 11 s after the kill at most.
    const env = {SAASCTL_WEBHOOK_ALLOW_PRIVATE: 'true', SAASCTL_WEBHOOK_TIMEOUT_MS: '3000', SAASCTL_WEBHOOK_POLL_MS: '100'}
    expect((await cli.run(['org', 'create', '--name', 'Acme', '--slug', 'acme'])).exitCode).toBe(0)
    const created = await cli.run(['webhook', 'create', `${receiver.url}/hook`, '--org', 'acme', '--events', 'org.updated', '--json'])
    expect(created.exitCode, created.stderr).toBe(0)
    const secret: string = created.json.secret

    receiver.hold()
    daemon = await startDaemonProcess(database.url, {env})
    expect((await cli.run(['org', 'update', 'acme', '--name', 'Acme Renamed'])).exitCode).toBe(0)
    await waitUntil(async () => receiver!.held() === 1, 15_000)
    daemon.process.kill('SIGKILL')
    await once(daemon.process, 'exit')

    db = await openDatabase(parseDatabaseUrl(database.url, process.cwd()))
    const row = () => db!.db.selectFrom('webhook_delivery').selectAll().where('event_type', '=', 'org.updated').executeTakeFirstOrThrow()
    const before = await row()
    // Claimed and never finished: no attempt was recorded.
    expect(before).toMatchObject({status: 'pending', attempts: 0})
    expect(before.claimed_by).not.toBeNull()

    receiver.release()
    daemon = await startDaemonProcess(database.url, {env})
    await waitUntil(async () => (await row()).status === 'succeeded', 30_000)
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(receiver.requests.map((request) => request.id)).toEqual([before.message_id, before.message_id])
    expect(receiver.messages).toHaveLength(1)
    expect(verifyWithStandardWebhooks(secret, receiver.messages[0]!)).toMatchObject({type: 'org.updated', data: {action: 'org.updated'}})
    expect(await row()).toMatchObject({status: 'succeeded', attempts: 1, last_status_code: 204, claimed_by: null})
  })
})
