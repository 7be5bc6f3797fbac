import {isIPv4, isIPv6} from 'node:net'
import type {Kysely} from 'kysely'
import type {Actor, RequestOrigin} from '../access/principal.js'
import type {AuditLog} from '../audit/audit-log.js'
import type {Database} from '../db/database.js'
import {composeMail, linkTo} from '../mail/mail-message.js'
import type {MailOutbox} from '../mail/mail-outbox.js'
import {FORGOT_PASSWORD_PATH} from './account-mails.js'
import {hashToken} from '../security/secure-token.js'

/**
 * A device as a login sees it, coarsely: the browser (or client) and operating system named by
 * the User-Agent, without versions, and the network the IP is in (/24 for IPv4, /48 for IPv6).
 * Coarse on purpose: a browser update or a new address from the same provider's pool is the
 * same device; another browser, OS or network is a new one.
 */
export interface DeviceFamily {
  /** e.g. "Firefox on Linux", "curl", "unknown client". */
  client: string
  /** e.g. "203.0.113.0/24", "2001:db8:1::/48", "unknown network". */
  network: string
}

// First match wins: Edge and Opera also name Chrome, Chrome also names Safari.
const BROWSERS: [RegExp, string][] = [
  [/\bEdg(e|A|iOS)?\//, 'Edge'],
  [/\b(OPR|Opera)\//, 'Opera'],
  [/\b(Firefox|FxiOS)\//, 'Firefox'],
  [/\b(Chrome|CriOS|Chromium)\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
  [/^curl\//, 'curl'],
  [/^Wget\//, 'Wget'],
  [/^(node-fetch|undici|node)\b/i, 'Node.js'],
  [/^python-requests\//, 'Python requests'],
  [/^Go-http-client\//, 'Go'],
  [/^saas-ctl\b/i, 'saas-ctl'],
]
const SYSTEMS: [RegExp, string][] = [
  [/\b(iPhone|iPad|iPod)\b/, 'iOS'],
  [/\bAndroid\b/, 'Android'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bLinux\b/, 'Linux'],
]

/** The client family a User-Agent names (browser and OS, no versions); "unknown client" when none. */
export function clientFamilyOf(userAgent: string | null | undefined): string {
  const agent = (userAgent ?? '').slice(0, 512)
  const browser = BROWSERS.find(([pattern]) => pattern.test(agent))?.[1]
  const system = SYSTEMS.find(([pattern]) => pattern.test(agent))?.[1]
  if (browser && system) return `${browser} on ${system}`
  if (browser || system) return (browser ?? system)!
  // Something else: its product name (the token before the first '/'), letters only, no version.
  const product = /^([A-Za-z][A-Za-z._-]{0,40})\//.exec(agent)?.[1]
  return product ?? 'unknown client'
}

/** The network an IP is in: its /24 (IPv4, also IPv4-mapped IPv6) or /48 (IPv6). */
export function networkOf(ip: string | null | undefined): string {
  if (!ip) return 'unknown network'
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1]
  const address = mapped ?? ip
  if (isIPv4(address)) return `${address.split('.').slice(0, 3).join('.')}.0/24`
  if (isIPv6(address)) return `${expandIPv6(address).slice(0, 3).join(':')}::/48`
  return 'unknown network'
}

/** The eight 16-bit groups of an IPv6 address, lowercase without leading zeros. */
function expandIPv6(address: string): string[] {
  const [withoutZone] = address.split('%')
  const [head, tail] = withoutZone!.includes('::') ? withoutZone!.split('::') : [withoutZone!, undefined]
  const headGroups = head ? head.split(':') : []
  const tailGroups = tail ? tail.split(':') : []
  // An embedded IPv4 tail (::1.2.3.4) counts as two groups; only the first three groups matter here.
  const tailLength = tailGroups.reduce((count, group) => count + (group.includes('.') ? 2 : 1), 0)
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailLength).fill('0'), ...tailGroups]
  return groups.map((group) => (group.includes('.') ? group : (Number.parseInt(group, 16) || 0).toString(16)))
}

export function deviceFamilyOf(origin: RequestOrigin): DeviceFamily {
  return {client: clientFamilyOf(origin.userAgent), network: networkOf(origin.ip)}
}

/** What known_device stores: SHA-256 of the device family, so the table holds no addresses. */
export function deviceFingerprint(family: DeviceFamily): string {
  return hashToken(`${family.client}\n${family.network}`)
}

export interface DeviceRecognitionDeps {
  audit: AuditLog
  mail: MailOutbox
  /** Links in mails start with it (the new-device mail links to the forgot-password page). */
  publicUrl: string
}

/**
 * Inside the transaction of a completed login, under the user's row lock: a device family seen
 * before for the user has its last_seen_at moved; a new one is stored, audited
 * (security.new_device) and mailed to the user. The very first device of an account (none
 * known yet: the registration's, or the first login of an account made otherwise) is stored
 * silently — there is nothing it could be new next to.
 * Returns whether the device was new to a user who had others.
 */
export async function recognizeDevice(tx: Kysely<Database>, deps: DeviceRecognitionDeps, input: {user: {id: string; email: string}; actor: Actor; origin: RequestOrigin; now: string}): Promise<{isNewDevice: boolean}> {
  const family = deviceFamilyOf(input.origin)
  const fingerprint = deviceFingerprint(family)
  const seen = await tx.updateTable('known_device').set({last_seen_at: input.now}).where('user_id', '=', input.user.id).where('fingerprint', '=', fingerprint).executeTakeFirst()
  if (Number(seen.numUpdatedRows) > 0) return {isNewDevice: false}
  const other = await tx.selectFrom('known_device').select('fingerprint').where('user_id', '=', input.user.id).limit(1).executeTakeFirst()
  await tx.insertInto('known_device').values({user_id: input.user.id, fingerprint, first_seen_at: input.now, last_seen_at: input.now}).execute()
  if (!other) return {isNewDevice: false}
  await deps.audit.append(tx, input.actor, {action: 'security.new_device', target: {type: 'user', id: input.user.id}, metadata: {client: family.client, network: family.network}})
  await deps.mail.enqueue(
    tx,
    composeMail({
      kind: 'new_device',
      to: input.user.email,
      userId: input.user.id,
      subject: 'New sign-in to your account',
      paragraphs: [
        `Your account ${input.user.email} was signed in to from a device or network not seen before: ${family.client}, from ${input.origin.ip ?? 'an unknown address'} (network ${family.network}), at ${input.now} (UTC).`,
        'If this was you, there is nothing to do. If not, reset your password now with the link below: a reset also signs out every session.',
      ],
      action: {label: 'Reset your password', url: linkTo(deps.publicUrl, FORGOT_PASSWORD_PATH)},
    }),
  )
  return {isNewDevice: true}
}

/** The user's known devices go with them (their rows point at the user). */
export async function deleteKnownDevicesOfUser(tx: Kysely<Database>, userId: string): Promise<number> {
  const result = await tx.deleteFrom('known_device').where('user_id', '=', userId).executeTakeFirst()
  return Number(result.numDeletedRows)
}
