import {describe, expect, it} from 'vitest'
import {checkWebhookTarget, isBlockedAddress, limitResolver, systemResolver, type HostResolver} from '../../src/webhooks/ssrf-guard.js'
import {createWebhookSender} from '../../src/webhooks/webhook-sender.js'
import {startWebhookReceiver} from '../helpers/webhook-receiver.js'

// The decision on addresses. Nothing here connects anywhere except the loopback receiver of the
// last test, reached only because webhook_allow_private is on there.

const BLOCKED = [
  '127.0.0.1', '127.255.255.254', '10.0.0.1', '10.255.1.2', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254',
  '100.64.0.1', '100.127.255.255', '0.0.0.0', '0.1.2.3', '224.0.0.1', '239.255.255.250', '240.0.0.1', '255.255.255.255',
  '192.0.0.8', '192.0.2.1', '198.18.0.1', '198.51.100.7', '203.0.113.9',
  '::', '::1', 'fe80::1', 'fe80::1%eth0', 'fc00::1', 'fd12:3456:789a::1', 'ff02::1', 'fec0::1', '2001:db8::1', '100::1',
  '::ffff:127.0.0.1', '::ffff:7f00:1', '0:0:0:0:0:ffff:a00:1', '::ffff:169.254.169.254', '::127.0.0.1', '64:ff9b::a9fe:a9fe',
  '2002:7f00:1::1', '2002:c0a8:101::', '2001::1',
  // IPv4-translated (::ffff:0:0/96) and local-use NAT64 (64:ff9b:1::/48).
  '::ffff:0:127.0.0.1', '::ffff:0:7f00:1', '::ffff:0:10.0.0.1', '::ffff:0:a9fe:a9fe', '0:0:0:0:ffff:0:c0a8:101',
  '64:ff9b:1::a00:1', '64:ff9b:1::808:808', '64:ff9b:1:ffff:ffff:ffff:ffff:ffff',
  'not-an-ip', '',
]
const ALLOWED = ['93.184.216.34', '8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '192.169.0.1', '2606:4700:4700::1111', '2a00:1450:4001:82a::200e', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1', '::ffff:0:8.8.8.8', '64:ff9b:2::1']

describe('the SSRF guard', () => {
  it.each(BLOCKED)('refuses %s', (address) => {
    expect(isBlockedAddress(address)).toBe(true)
  })

  it.each(ALLOWED)('allows %s', (address) => {
    expect(isBlockedAddress(address)).toBe(false)
  })

  const resolverOf = (table: Record<string, string[]>): HostResolver => async (host) => {
    const addresses = table[host]
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), {code: 'ENOTFOUND'})
    return addresses.map((address) => ({address, family: address.includes(':') ? 6 : 4}))
  }
  const resolve = resolverOf({
    'public.example.test': ['93.184.216.34'],
    'metadata.example.test': ['169.254.169.254'],
    'mixed.example.test': ['93.184.216.34', '10.1.2.3'],
    'localhost': ['127.0.0.1', '::1'],
    'v6.example.test': ['fd00::5'],
  })
  const check = (url: string, allowPrivate = false) => checkWebhookTarget(new URL(url), {allowPrivate, resolve})

  it('checks literal addresses in URLs, IPv6 in brackets included', async () => {
    await expect(check('http://127.0.0.1:8080/hook')).rejects.toMatchObject({code: 'webhook.url_refused'})
    await expect(check('http://[::1]/hook')).rejects.toMatchObject({code: 'webhook.url_refused'})
    await expect(check('http://[::ffff:10.0.0.1]/hook')).rejects.toMatchObject({code: 'webhook.url_refused'})
    await expect(check('http://2130706433/hook')).rejects.toMatchObject({code: 'webhook.url_refused'}) // 127.0.0.1 as one number
    await expect(check('http://0x7f.1/hook')).rejects.toMatchObject({code: 'webhook.url_refused'})
    await expect(check('https://93.184.216.34/hook')).resolves.toEqual({address: '93.184.216.34', family: 4})
  })

  it('resolves names and refuses when any address is internal, or none resolves', async () => {
    await expect(check('https://public.example.test/x')).resolves.toEqual({address: '93.184.216.34', family: 4})
    await expect(check('https://metadata.example.test/x')).rejects.toMatchObject({code: 'webhook.url_refused', details: {reason: 'private_address'}})
    await expect(check('https://mixed.example.test/x')).rejects.toMatchObject({code: 'webhook.url_refused', details: {reason: 'private_address'}})
    await expect(check('http://localhost:3000/x')).rejects.toMatchObject({code: 'webhook.url_refused'})
    await expect(check('https://v6.example.test/x')).rejects.toMatchObject({code: 'webhook.url_refused'})
    await expect(check('https://nowhere.example.test/x')).rejects.toMatchObject({code: 'webhook.url_refused', details: {reason: 'unresolvable'}})
  })

  it('a name that does not resolve in time is refused as unresolvable, and the resolver is told to give up', async () => {
    let signal: AbortSignal | undefined
    const silent: HostResolver = (_host, options) => {
      signal = options?.signal
      return new Promise(() => {})
    }
    await expect(checkWebhookTarget(new URL('https://slow.example.test/x'), {allowPrivate: false, resolve: silent, resolveTimeoutMs: 20})).rejects.toMatchObject({code: 'webhook.url_refused', details: {reason: 'unresolvable'}})
    expect(signal?.aborted).toBe(true)
  })

  it('resolutions run at most `limit` at once; one whose caller gave up while it waited never starts', async () => {
    let running = 0
    let most = 0
    const started: string[] = []
    const finish: (() => void)[] = []
    const slow: HostResolver = async (host) => {
      started.push(host)
      most = Math.max(most, ++running)
      await new Promise<void>((resolve) => finish.push(resolve))
      running--
      return [{address: '93.184.216.34', family: 4}]
    }
    const limited = limitResolver(slow, 2)
    const abandoned = new AbortController()
    const calls = [limited('a.test'), limited('b.test'), limited('c.test', {signal: abandoned.signal}), limited('d.test')]
    await new Promise((resolve) => setImmediate(resolve))
    expect(started).toEqual(['a.test', 'b.test'])
    abandoned.abort()
    finish.shift()!()
    await calls[0]
    await expect(calls[2]).rejects.toThrow()
    await new Promise((resolve) => setImmediate(resolve))
    expect(started).toEqual(['a.test', 'b.test', 'd.test'])
    while (finish.length > 0) finish.shift()!()
    await Promise.all([calls[1], calls[3]])
    expect(most).toBe(2)
  })

  it('the system resolver reads /etc/hosts (localhost)', async () => {
    const addresses = await systemResolver('localhost')
    expect(addresses.map(({address}) => address)).toContain('127.0.0.1')
  })

  it('webhook_allow_private lets internal addresses through', async () => {
    await expect(check('http://127.0.0.1:8080/hook', true)).resolves.toEqual({address: '127.0.0.1', family: 4})
    await expect(check('http://localhost:3000/x', true)).resolves.toEqual({address: '127.0.0.1', family: 4})
  })

  it('the sender checks at send time: a name that now resolves to a private address is refused before any connection', async () => {
    let lookups = 0
    // DNS rebinding: public when the endpoint was created, loopback now.
    const rebinding: HostResolver = async () => (++lookups === 1 ? [{address: '93.184.216.34', family: 4}] : [{address: '127.0.0.1', family: 4}])
    await expect(checkWebhookTarget(new URL('http://rebind.example.test/'), {allowPrivate: false, resolve: rebinding})).resolves.toMatchObject({address: '93.184.216.34'})
    const send = createWebhookSender({timeoutMs: 1_000, allowPrivate: false, resolve: rebinding})
    const result = await send({url: 'http://rebind.example.test/', headers: {}, body: '{}'})
    expect(result.statusCode).toBeNull()
    expect(result.error).toMatch(/^refused: /)
    expect(lookups).toBe(2)
  })

  it('the sender connects to the address it checked (pinned), with the URL’s host name in the Host header, and does not follow redirects', async () => {
    const receiver = await startWebhookReceiver()
    try {
      const pinned: HostResolver = async () => [{address: '127.0.0.1', family: 4}]
      const send = createWebhookSender({timeoutMs: 2_000, allowPrivate: true, resolve: pinned})
      const result = await send({url: `http://hooks.example.test:${receiver.port}/in`, headers: {'content-type': 'application/json'}, body: '{"type":"x"}'})
      expect(result).toEqual({statusCode: 204, error: null})
      expect(receiver.requests).toHaveLength(1)
      expect(receiver.requests[0]!.host).toBe(`hooks.example.test:${receiver.port}`)
      receiver.answerWith(302)
      expect(await send({url: `${receiver.url}/in`, headers: {}, body: '{}'})).toEqual({statusCode: 302, error: null})
      expect(receiver.requests).toHaveLength(2)
    } finally {
      await receiver.stop()
    }
  })
})
