/** "a, b,,c" → ["a", "b", "c"]; the service validates and deduplicates the keys. */
export function parsePermissionList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  return value
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key !== '')
}

/** Leniently a number; anything else becomes NaN, so the service raises validation.failed. */
export function parseLevel(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  return value.trim() === '' ? Number.NaN : Number(value)
}
