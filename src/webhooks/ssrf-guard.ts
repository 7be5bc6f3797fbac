import {lookup} from 'node:dns/promises'
import {BlockList, isIP} from 'node:net'
import {DomainError} from '../errors/domain-error.js'

/** Resolves a host name to every address it has (node's dns.lookup by default; tests inject one). */
export type HostResolver = (hostname: string) => Promise<{address: string; family: 4 | 6}[]>

export const systemResolver: HostResolver = async (hostname) => {
  const addresses = await lookup(hostname, {all: true, verbatim: true})
  return addresses.map(({address, family}) => ({address, family: family === 6 ? 6 : 4}))
}

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
 * link-local, unique-local, CGNAT, multicast, unspecified, reserved, and the IPv6 forms of
 * those IPv4 addresses (IPv4-mapped, IPv4-compatible, NAT64, 6to4). Anything that is not an IP
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

/** The IPv4 address an IPv6 address carries (::ffff:a.b.c.d, ::a.b.c.d, 64:ff9b::/96, 2002::/16), else null. */
function embeddedIpv4(bytes: number[]): string | null {
  const allZero = (from: number, to: number) => bytes.slice(from, to).every((byte) => byte === 0)
  const v4 = (offset: number) => bytes.slice(offset, offset + 4).join('.')
  if (allZero(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return v4(12)
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
 * refused). Returns the address to connect to. With `allowPrivate`, nothing is refused.
 * Raises webhook.url_refused (blocked, or the name does not resolve).
 */
export async function checkWebhookTarget(url: URL, options: {allowPrivate: boolean; resolve: HostResolver}): Promise<CheckedTarget> {
  const host = hostOfUrl(url)
  const literal = isIP(host)
  if (literal !== 0) {
    if (!options.allowPrivate && isBlockedAddress(host)) throw refused(url, 'private_address')
    return {address: host, family: literal === 6 ? 6 : 4}
  }
  let addresses: {address: string; family: 4 | 6}[]
  try {
    addresses = await options.resolve(host)
  } catch {
    throw new DomainError('webhook.url_refused', `The host of ${url.origin} does not resolve`, {reason: 'unresolvable'})
  }
  if (addresses.length === 0) throw new DomainError('webhook.url_refused', `The host of ${url.origin} does not resolve`, {reason: 'unresolvable'})
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
