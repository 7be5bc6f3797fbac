/**
 * Converts a value's object keys from camelCase to snake_case, deeply. Services speak
 * camelCase; every JSON contract (CLI --json, HTTP) is snake_case, converted here once.
 */
export function toJsonShape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toJsonShape)
  if (value === null || typeof value !== 'object' || value instanceof Date) return value
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, inner]) => [toSnakeCase(key), toJsonShape(inner)]),
  )
}

function toSnakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)
}
