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

/**
 * Converts a value's object keys from snake_case to camelCase, deeply: the mirror of
 * toJsonShape, for what comes in (HTTP bodies and queries) before a service's schema reads it.
 * Iterative, since untrusted bodies may nest deeply; keys are defined, never assigned, so a
 * `__proto__` key stays a plain key.
 */
export function toCamelShape(value: unknown): unknown {
  const root: {value?: unknown} = {}
  const pending: [unknown, object, string | number][] = [[value, root, 'value']]
  while (pending.length > 0) {
    const [node, parent, key] = pending.pop()!
    let copy: unknown = node
    if (Array.isArray(node)) {
      const items: unknown[] = new Array(node.length)
      node.forEach((inner, index) => pending.push([inner, items, index]))
      copy = items
    } else if (node !== null && typeof node === 'object' && !(node instanceof Date)) {
      const fields: Record<string, unknown> = {}
      const entries = Object.entries(node as Record<string, unknown>).map(([field, inner]): [unknown, object, string] => [inner, fields, toCamelCase(field)])
      // Keys in their order; filled last-pushed-first, so of two keys that meet, the later wins.
      for (const [, , name] of entries) Object.defineProperty(fields, name, {value: undefined, enumerable: true, writable: true, configurable: true})
      for (let index = entries.length - 1; index >= 0; index--) pending.push(entries[index]!)
      copy = fields
    }
    Object.defineProperty(parent, key, {value: copy, enumerable: true, writable: true, configurable: true})
  }
  return root.value
}

/** `org_name` → `orgName`; a leading, trailing or doubled underscore is kept as it is. */
export function toCamelCase(key: string): string {
  return key.replace(/(?<=[A-Za-z0-9])_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase())
}

/** `orgName` → `org_name`: how a field of a service's schema is named on the wire. */
export function toSnakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)
}
