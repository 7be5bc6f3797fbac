/**
 * Converts a value's object keys from camelCase to snake_case, deeply. Services speak
 * camelCase; every JSON contract (CLI --json, HTTP) is snake_case, converted here once. Every
 * response passes through here, so the loop is plain and key names are remembered; a
 * `__proto__` key (from stored JSON) is defined, never assigned, so it stays a plain key.
 */
export function toJsonShape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toJsonShape)
  if (value === null || typeof value !== 'object' || value instanceof Date) return value
  const shaped: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    const inner = toJsonShape((value as Record<string, unknown>)[key])
    const name = snakeNameOf(key)
    if (name === '__proto__') Object.defineProperty(shaped, name, {value: inner, enumerable: true, writable: true, configurable: true})
    else shaped[name] = inner
  }
  return shaped
}

// Field names repeat across responses; bounded, since stored JSON (audit metadata) brings its own keys.
const snakeNames = new Map<string, string>()
const SNAKE_NAMES_MAX = 5_000

function snakeNameOf(key: string): string {
  let name = snakeNames.get(key)
  if (name === undefined) {
    name = toSnakeCase(key)
    if (snakeNames.size < SNAKE_NAMES_MAX) snakeNames.set(key, name)
  }
  return name
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
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`).replace(DIGIT_WORD_IN_CAMEL_CASE, '_$1')
}

// Words that begin with a digit: toCamelCase joins them to the word before (`require_2fa` →
// `require2fa`), and here they become their own word again, so the two stay each other's mirror.
const DIGIT_WORD_IN_CAMEL_CASE = /(?<=[a-z])(2fa)(?=$|_)/g
