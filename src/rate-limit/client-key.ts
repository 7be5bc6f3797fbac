import {isIPv6} from 'node:net'

/**
 * The per-IP bucket key of a client address: an IPv4 address as it is (an IPv4-mapped IPv6
 * address as its IPv4), an IPv6 address by its /64 — one subscriber usually holds a whole /64,
 * and would otherwise get a fresh bucket from every address in it.
 */
export function clientKeyOf(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return mapped[1]!
  if (!isIPv6(address)) return address
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`
}

/** The eight hextets of an IPv6 address, '::' expanded, without leading zeros (zone index dropped). */
function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('%', 1)[0]!.split('::', 2)
  const parse = (part: string) => (part === '' ? [] : part.split(':')).flatMap((group) => (group.includes('.') ? ipv4AsHextets(group) : [group]))
  const left = parse(head)
  const right = tail === undefined ? [] : parse(tail)
  const middle = Array.from({length: 8 - left.length - right.length}, () => '0')
  return [...left, ...middle, ...right].map((group) => Number.parseInt(group, 16).toString(16))
}

function ipv4AsHextets(ipv4: string): string[] {
  const [a = 0, b = 0, c = 0, d = 0] = ipv4.split('.').map(Number)
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)]
}
