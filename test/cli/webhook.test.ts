import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {createCliDatabase, createCliRunner, type CliRunner} from '../helpers/run-cli.js'
import {describeEachDialect, type TestDatabase} from '../helpers/test-database.js'
import {startWebhookReceiver, verifyWithStandardWebhooks, type WebhookReceiver} from '../helpers/webhook-receiver.js'

describeEachDialect('CLI webhook', (dialect) => {
  let database: TestDatabase
  let cli: CliRunner
  // An operator whose config allows private addresses (the receiver is on loopback).
  let localCli: CliRunner
  let receiver: WebhookReceiver

  beforeAll(async () => {
    ;({database, cli} = await createCliDatabase(dialect, {inProcess: true}))
    receiver = await startWebhookReceiver()
    localCli = createCliRunner(database.url, {inProcess: true})
    writeFileSync(path.join(localCli.cwd, 'saas-ctl.config.json'), JSON.stringify({webhook_allow_private: true, webhook_timeout_ms: 5_000}), {mode: 0o600})
    expect((await cli.run(['org', 'create', '--name', 'Acme', '--slug', 'acme'])).exitCode).toBe(0)
  })
  afterAll(async () => {
    await receiver?.stop()
    await database?.drop()
  })

  it('create, list, test, deliveries, replay, rotate-secret, delete; a loopback URL is refused without webhook_allow_private', async () => {
    const refused = await cli.run(['webhook', 'create', 'http://127.0.0.1:9/hook', '--org', 'acme', '--events', '*', '--json'])
    expect(refused.exitCode).toBe(65)
    expect(refused.json.error.code).toBe('webhook.url_refused')

    const created = await localCli.run(['webhook', 'create', `${receiver.url}/hook`, '--org', 'acme', '--events', 'org.*,member.added', '--json'])
    expect(created.exitCode, created.stderr).toBe(0)
    expect(created.json).toMatchObject({url: `${receiver.url}/hook`, events: ['member.added', 'org.*'], secret: expect.stringMatching(/^whsec_/)})
    const {id, secret} = created.json as {id: string; secret: string}

    const listed = await cli.run(['webhook', 'list', '--org', 'acme', '--json'])
    expect(listed.json.map((hook: {id: string}) => hook.id)).toEqual([id])
    expect(listed.stdout).not.toContain(secret.slice(6))
    const table = await cli.run(['webhook', 'list', '--org', 'acme'])
    expect(table.stdout).toMatch(/^ID\s+URL\s+EVENTS/)

    const tested = await localCli.run(['webhook', 'test', id, '--json'])
    expect(tested.exitCode, tested.stderr).toBe(0)
    expect(tested.json).toMatchObject({status: 'succeeded', status_code: 204, event_type: 'webhook.test'})
    expect(receiver.messages).toHaveLength(1)
    expect(verifyWithStandardWebhooks(secret, receiver.messages[0]!)).toMatchObject({type: 'webhook.test', data: {webhook_id: id}})

    receiver.answerWith(500)
    const failed = await localCli.run(['webhook', 'test', id, '--json'])
    expect(failed.exitCode).toBe(69)
    expect(failed.json.error).toMatchObject({code: 'webhook.delivery_failed', details: {status_code: 500, status: 'pending'}})
    receiver.answerWith(204)

    const deliveries = await cli.run(['webhook', 'deliveries', id, '--json'])
    expect(deliveries.json.map((delivery: {status: string; last_status_code: number}) => [delivery.status, delivery.last_status_code])).toEqual([['pending', 500], ['succeeded', 204]])
    const human = await cli.run(['webhook', 'deliveries', id])
    expect(human.stdout).toMatch(/^ID\s+EVENT\s+STATUS\s+ATTEMPTS\s+CODE/)

    const succeeded = deliveries.json[1]
    const attempts = await cli.run(['webhook', 'delivery', deliveries.json[0].id, '--json'])
    expect(attempts.json.attempt_log.map((attempt: {outcome: string; status_code: number}) => [attempt.outcome, attempt.status_code])).toEqual([['failed', 500]])
    expect((await cli.run(['webhook', 'delivery', deliveries.json[0].id])).stdout).toMatch(/ATTEMPTED\s+MS\s+OUTCOME\s+CODE/)
    const replayed = await cli.run(['webhook', 'replay', succeeded.id, '--json'])
    expect(replayed.exitCode, replayed.stderr).toBe(0)
    expect(replayed.json).toMatchObject({id: succeeded.id, status: 'pending', message_id: succeeded.message_id})
    expect((await cli.run(['webhook', 'replay', succeeded.id, '--json'])).json.error.code).toBe('webhook.delivery_pending')

    const rotated = await cli.run(['webhook', 'rotate-secret', id, '--overlap', '60', '--json'])
    expect(rotated.exitCode, rotated.stderr).toBe(0)
    expect(rotated.json.secret).not.toBe(secret)
    expect(rotated.json.previous_secret_expires_at).toEqual(expect.any(String))

    expect((await cli.run(['webhook', 'delete', id, '--json'])).json.error.code).toBe('confirmation.required')
    const deleted = await cli.run(['webhook', 'delete', id, '--yes', '--json'])
    expect(deleted.json).toMatchObject({id, deliveries_deleted: 2})
    expect((await cli.run(['webhook', 'deliveries', id, '--json'])).json.error.code).toBe('webhook.not_found')
  })
})
