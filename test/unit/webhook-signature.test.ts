import {Webhook} from 'standardwebhooks'
import {describe, expect, it} from 'vitest'
import {matchesEventPatterns} from '../../src/webhooks/event-patterns.js'
import {generateWebhookSecret, signWebhookMessage} from '../../src/webhooks/webhook-signature.js'

describe('webhook signatures (Standard Webhooks)', () => {
  it('secrets are whsec_ and 32 random bytes in base64', () => {
    const secret = generateWebhookSecret()
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32)
    expect(generateWebhookSecret()).not.toBe(secret)
  })

  it('the official package verifies what we sign, and its own signature equals ours', () => {
    const secret = generateWebhookSecret()
    const timestamp = Math.floor(Date.now() / 1000)
    const body = JSON.stringify({type: 'member.added', timestamp: new Date().toISOString(), data: {id: 'e1'}})
    const signature = signWebhookMessage([secret], 'msg_1', timestamp, body)
    const webhook = new Webhook(secret)
    expect(webhook.verify(body, {'webhook-id': 'msg_1', 'webhook-timestamp': String(timestamp), 'webhook-signature': signature})).toEqual(JSON.parse(body))
    expect(signature).toBe(webhook.sign('msg_1', new Date(timestamp * 1000), body))
    // Another body, id or timestamp does not verify.
    expect(() => webhook.verify(`${body} `, {'webhook-id': 'msg_1', 'webhook-timestamp': String(timestamp), 'webhook-signature': signature})).toThrow()
    expect(() => webhook.verify(body, {'webhook-id': 'msg_2', 'webhook-timestamp': String(timestamp), 'webhook-signature': signature})).toThrow()
  })

  it('during a rotation both signatures go, space-separated, and either secret verifies', () => {
    const [current, previous, stranger] = [generateWebhookSecret(), generateWebhookSecret(), generateWebhookSecret()]
    const timestamp = Math.floor(Date.now() / 1000)
    const signature = signWebhookMessage([current, previous], 'msg_9', timestamp, '{}')
    expect(signature.split(' ')).toHaveLength(2)
    const headers = {'webhook-id': 'msg_9', 'webhook-timestamp': String(timestamp), 'webhook-signature': signature}
    expect(() => new Webhook(current).verify('{}', headers)).not.toThrow()
    expect(() => new Webhook(previous).verify('{}', headers)).not.toThrow()
    expect(() => new Webhook(stranger).verify('{}', headers)).toThrow()
  })

  it('event patterns: exact types, families and *', () => {
    expect(matchesEventPatterns(['member.*'], 'member.added')).toBe(true)
    expect(matchesEventPatterns(['member.*'], 'members.added')).toBe(false)
    expect(matchesEventPatterns(['org.updated'], 'org.updated')).toBe(true)
    expect(matchesEventPatterns(['org.updated'], 'org.deleted')).toBe(false)
    expect(matchesEventPatterns(['*'], 'security.login_failed')).toBe(true)
    expect(matchesEventPatterns(['user.*', 'org.created'], 'org.created')).toBe(true)
  })
})
