import {isIP} from 'node:net'

/**
 * The trust_proxy setting as the daemon's HTTP layer takes it: false (unset: the client IP is
 * the socket's address), a number of proxy hops in front of the daemon, or the proxies trusted
 * by address — IPs, CIDRs, or the names loopback, linklocal and uniquelocal. Only a request that
 * came through trusted proxies has its client IP taken from X-Forwarded-For.
 */
export type TrustProxy = false | number | string[]

const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal'])

/** Whether one comma-separated entry of trust_proxy is an IP, a CIDR or a named range. */
export function isTrustProxyEntry(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true
  const [address, prefix, extra] = entry.split('/')
  const family = isIP(address ?? '')
  if (family === 0 || extra !== undefined) return false
  if (prefix === undefined) return true
  if (!/^\d{1,3}$/.test(prefix)) return false
  return Number(prefix) <= (family === 4 ? 32 : 128)
}

/** The entries of a trust_proxy list, trimmed, empty ones dropped. */
export function trustProxyEntries(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
}

export function parseTrustProxy(value: number | string | undefined): TrustProxy {
  if (value === undefined) return false
  if (typeof value === 'number') return value
  return trustProxyEntries(value)
}
