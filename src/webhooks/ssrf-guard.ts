import {BlockList, isIP} from 'node:net'
import {DomainError} from '../errors/domain-error.js'
import {createConcurrencyLimit} from '../security/concurrency-limit.js'

/**
 * Resolves a host name to every address it has (node's dns.lookup by default; tests inject one).
 * `signal` aborts when the caller stopped waiting (the guard's timeout): a resolver that has not
 * started yet should not start.
 */
export type HostResolver = (hostname: string, options?: {signal?: AbortSignal}) => Promise<{address: string; family: 4 | 6}[]>

/** How long the guard waits for a name to resolve before refusing it (webhook.url_refused, unresolvable). */
export const RESOLVE_TIMEOUT_MS = 5_000

/**
 * Resolutions running at once per process. dns.lookup (getaddrinfo, which reads /etc/hosts)
 * runs on libuv's thread pool of 4, which argon2 shares: a slow DNS server must not take it all.
 */
export const RESOLVE_CONCURRENCY = 2

/**
 * `resolve` with at most `limit` resolutions at once; the rest wait in order. One that waited
 * past its caller's patience (signal aborted) does not start. A slot is held until the
 * resolution really ends, even after its caller gave up: the thread is busy until then.
 */
export function limitResolver(resolve: HostResolver, limit: number): HostResolver {
  const run = createConcurrencyLimit(limit)
  return (hostname, options) =>
    run(async () => {
      if (options?.signal?.aborted) throw new Error('resolution abandoned: its caller stopped waiting')
      return resolve(hostname, options)
    })
}

const lookupAll: HostResolver = async (hostname) => {
  // Loaded by the first resolution, as the sender loads http: most processes never resolve one.
  const {lookup} = await import('node:dns/promises')
  const addresses = await lookup(hostname, {all: true, verbatim: true})
  return addresses.map(({address, family}) => ({address, family: family === 6 ? 6 : 4}))
}

/** The system's resolver (dns.lookup: /etc/hosts, then DNS), RESOLVE_CONCURRENCY at once per process. */
export const systemResolver: HostResolver = limitResolver(lookupAll, RESOLVE_CONCURRENCY)

// Addresses a webhook must not reach unless the operator allows it: this host, the private
// networks behind it, link-local (cloud metadata at 169.254.169.254), CGNAT, multicast,
// reserved and documentation ranges. IPv6 forms that embed an IPv4 address are unwrapped first.
const BLOCKED = new BlockList()
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv4')
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  // Local-use NAT64 (RFC 8215): where its IPv4 sits depends on the site's prefix length, so all of it.
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv6')
}

/**
 * Whether a webhook may not connect to `address` (an IP literal): private, loopback,
 * link-local, unique-local, CGNAT, multicast, unspecified, reserved, local-use NAT64, and the
 * IPv6 forms of those IPv4 addresses (IPv4-mapped, IPv4-translated, IPv4-compatible, NAT64, 6to4). Anything that is not an IP
 * address is refused too.
 */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 4) return BLOCKED.check(address, 'ipv4')
  if (family !== 6) return true
  const bytes = ipv6Bytes(address)
  if (!bytes) return true
  const embedded = embeddedIpv4(bytes)
  if (embedded !== null) return BLOCKED.check(embedded, 'ipv4')
  return BLOCKED.check(address, 'ipv6')
}

/** The IPv4 address an IPv6 address carries (::ffff:a.b.c.d, ::ffff:0:a.b.c.d, ::a.b.c.d, 64:ff9b::/96, 2002::/16), else null. */
function embeddedIpv4(bytes: number[]): string | null {
  const allZero = (from: number, to: number) => bytes.slice(from, to).every((byte) => byte === 0)
  const v4 = (offset: number) => bytes.slice(offset, offset + 4).join('.')
  if (allZero(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return v4(12)
  // IPv4-translated (::ffff:0:0/96, RFC 2765 SIIT).
  if (allZero(0, 8) && bytes[8] === 0xff && bytes[9] === 0xff && allZero(10, 12)) return v4(12)
  if (allZero(0, 12) && !allZero(12, 16)) return v4(12)
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && allZero(4, 12)) return v4(12)
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return v4(2)
  return null
}

/** The 16 bytes of an IPv6 literal (with or without an embedded dotted IPv4 tail), or null. */
function ipv6Bytes(address: string): number[] | null {
  let text = address.split('%')[0]!.toLowerCase()
  const tail: number[] = []
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted) {
    tail.push(...dotted[1]!.split('.').map(Number))
    text = text.slice(0, -dotted[1]!.length)
    text = text.endsWith('::') ? text : text.replace(/:$/, '')
  }
  const groupsWanted = (16 - tail.length) / 2
  const [head, rest] = text.split('::') as [string, string | undefined]
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)))
  const headGroups = parse(head)
  const restGroups = rest === undefined ? [] : parse(rest)
  const missing = groupsWanted - headGroups.length - restGroups.length
  if (missing < 0 || (rest === undefined && missing !== 0)) return null
  const groups = [...headGroups, ...Array<number>(missing).fill(0), ...restGroups]
  if (groups.some((group) => Number.isNaN(group) || group < 0 || group > 0xffff)) return null
  return [...groups.flatMap((group) => [group >> 8, group & 0xff]), ...tail]
}

/** The host of a URL as a resolver or isIP takes it (IPv6 literals without their brackets). */
export function hostOfUrl(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
}

export interface CheckedTarget {
  /** The address to connect to: checked, and pinned so DNS cannot change it afterwards. */
  address: string
  family: 4 | 6
}

/**
 * Decides whether a webhook may go to `url`'s host: an IP literal is checked as is; a name is
 * resolved and every address it has must be allowed (one private address among public ones is
 * refused). Returns the address to connect to. With `allowPrivate`, nothing is refused. A name
 * that has not resolved within `resolveTimeoutMs` (default RESOLVE_TIMEOUT_MS) is refused as
 * unresolvable. Raises webhook.url_refused (blocked, or the name does not resolve).
 */
export async function checkWebhookTarget(url: URL, options: {allowPrivate: boolean; resolve: HostResolver; resolveTimeoutMs?: number}): Promise<CheckedTarget> {
  const host = hostOfUrl(url)
  const literal = isIP(host)
  if (literal !== 0) {
    if (!options.allowPrivate && isBlockedAddress(host)) throw refused(url, 'private_address')
    return {address: host, family: literal === 6 ? 6 : 4}
  }
  const unresolvable = () => new DomainError('webhook.url_refused', `The host of ${url.origin} does not resolve`, {reason: 'unresolvable'})
  let addresses: {address: string; family: 4 | 6}[]
  const abort = new AbortController()
  let timer: NodeJS.Timeout | undefined
  try {
    addresses = await Promise.race([
      options.resolve(host, {signal: abort.signal}),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          abort.abort()
          reject(new Error('resolution timed out'))
        }, options.resolveTimeoutMs ?? RESOLVE_TIMEOUT_MS)
      }),
    ])
  } catch {
    throw unresolvable()
  } finally {
    clearTimeout(timer)
  }
  if (addresses.length === 0) throw unresolvable()
  if (!options.allowPrivate && addresses.some(({address}) => isBlockedAddress(address))) throw refused(url, 'private_address')
  return addresses[0]!
}

function refused(url: URL, reason: string): DomainError {
  return new DomainError(
    'webhook.url_refused',
    `${url.origin} is a private, loopback or otherwise internal address; webhooks go only to public addresses unless the operator sets webhook_allow_private`,
    {reason},
  )
}
