export const ON_OFF = ['on', 'off'] as const

/** on/off → boolean; absent stays absent. */
export function parseOnOff(value: (typeof ON_OFF)[number] | undefined): boolean | undefined {
  return value === undefined ? undefined : value === 'on'
}

/**
 * A rollout percentage, leniently: "25", " 25 ", "25%"; "none" clears it (null). Anything else
 * becomes NaN, so the service raises validation.failed with its own message.
 */
export function parseRollout(value: string | undefined): number | null | undefined {
  if (value === undefined) return undefined
  const trimmed = value.trim().replace(/%$/, '').trim()
  if (trimmed.toLowerCase() === 'none') return null
  return trimmed === '' ? Number.NaN : Number(trimmed)
}
