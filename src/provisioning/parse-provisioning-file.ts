import type {Document, LineCounter} from 'yaml'
import type {z} from 'zod'
import {desiredStateSchema, type DesiredState} from './desired-state-schema.js'
import {formatPath, type PathSegment, type Problem} from './provisioning-problems.js'

type YamlModule = typeof import('yaml')

/** Where a path of the file sits (line:column), for problems found after parsing. */
export type Locate = (path: readonly PathSegment[]) => {line: number; column: number} | undefined

export type ParsedFile = {ok: true; state: DesiredState; locate: Locate} | {ok: false; problems: Problem[]}

/**
 * Parses a provisioning file (YAML, or JSON, which YAML 1.2 reads too) and checks it against the
 * schema. Syntax errors and every schema problem come back with their line and column.
 */
export function parseProvisioningFile(yaml: YamlModule, text: string): ParsedFile {
  // JSON is read by JSON.parse (fifty times faster on a large file); positions, needed only for
  // problems, come from the YAML parser then. Anything JSON.parse refuses, or a key given twice
  // in an object (JSON.parse keeps the last one), goes to the YAML parser, which reports it.
  const json = parseJson(text)
  if (json !== undefined) return checkSchema(json.value, lazyLocator(() => parseDocument(yaml, text)))
  const parsed = parseDocument(yaml, text)
  const {document, lineCounter} = parsed
  // The first error (or warning: an unknown tag) only: the parser's later ones mostly follow from it.
  const [first] = [...document.errors, ...document.warnings]
  if (first) return {ok: false, problems: [syntaxProblem(lineCounter, first.pos[0], first.message)]}
  let value: unknown
  try {
    value = document.toJS({maxAliasCount: MAX_ALIAS_COUNT})
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error
    // An alias expanding to too many nodes (a "billion laughs" file).
    const alias = firstAlias(yaml, document)
    const position = alias ? lineCounter.linePos(alias) : undefined
    return {ok: false, problems: [{path: '', message: `not valid YAML or JSON: aliases expand to too many nodes (at most ${MAX_ALIAS_COUNT} uses of an anchor)`, line: position?.line, column: position?.col}]}
  }
  return checkSchema(value, lazyLocator(() => parsed))
}

/** How many times a YAML alias may be expanded (yaml's own default, named here so it cannot change under us). */
const MAX_ALIAS_COUNT = 100

function firstAlias(yaml: YamlModule, document: Document): number | undefined {
  let offset: number | undefined
  yaml.visit(document, {
    Alias(_key, node) {
      offset = node.range?.[0]
      return yaml.visit.BREAK
    },
  })
  return offset
}

function parseJson(text: string): {value: unknown} | undefined {
  if (!/^\s*\{/.test(text)) return undefined
  let value: unknown
  try {
    value = JSON.parse(text) as unknown
  } catch {
    return undefined
  }
  return countKeysInText(text) === countKeys(value) ? {value} : undefined
}

/** The keys of valid JSON text: each string followed by a colon. */
function countKeysInText(text: string): number {
  let count = 0
  for (let index = 0; index < text.length; index++) {
    if (text.charCodeAt(index) !== 0x22) continue
    for (index++; index < text.length; index++) {
      const code = text.charCodeAt(index)
      if (code === 0x5c) index++
      else if (code === 0x22) break
    }
    let next = index + 1
    while (next < text.length && /[ \t\r\n]/.test(text[next]!)) next++
    if (text.charCodeAt(next) === 0x3a) count++
  }
  return count
}

/** The keys of every object in a parsed JSON value (fewer than in its text when a key was repeated). */
function countKeys(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + countKeys(item), 0)
  if (typeof value !== 'object' || value === null) return 0
  let count = 0
  for (const key of Object.keys(value)) count += 1 + countKeys((value as Record<string, unknown>)[key])
  return count
}

interface ParsedDocument {
  yaml: YamlModule
  document: Document
  lineCounter: LineCounter
}

function parseDocument(yaml: YamlModule, text: string): ParsedDocument {
  const lineCounter = new yaml.LineCounter()
  // The core schema, no custom tags and no YAML 1.1 ones (!!binary, !!set, !!timestamp…): a file
  // holds strings, numbers, booleans, nulls, lists and mappings; any other tag is a problem.
  const document = yaml.parseDocument(text, {lineCounter, prettyErrors: false, uniqueKeys: true, schema: 'core', resolveKnownTags: false, customTags: []})
  return {yaml, document, lineCounter}
}

function checkSchema(raw: unknown, locate: Locate): ParsedFile {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return {ok: false, problems: [{path: '', message: 'must be a mapping with users, flags and orgs', ...locate([])}]}
  }
  // A "__proto__" key would be dropped by the schema's records (or set a prototype): reported, never lost.
  const prototypeKeys = hasPrototypeKey(raw) ? findPrototypeKeys(raw, []) : []
  if (prototypeKeys.length > 0) return {ok: false, problems: prototypeKeys.map((path) => ({path: formatPath(path), message: 'the key "__proto__" is not allowed', ...locate(path)}))}
  const result = desiredStateSchema.safeParse(raw)
  if (!result.success) return {ok: false, problems: schemaProblems(result.error, locate)}
  return {ok: true, state: result.data, locate}
}

/** Whether any object in the value has an own "__proto__" key (no paths built: the common case is none). */
function hasPrototypeKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasPrototypeKey)
  if (typeof value !== 'object' || value === null) return false
  if (Object.hasOwn(value, '__proto__')) return true
  return Object.values(value).some(hasPrototypeKey)
}

function findPrototypeKeys(value: unknown, path: PathSegment[]): PathSegment[][] {
  if (Array.isArray(value)) return value.flatMap((item, index) => findPrototypeKeys(item, [...path, index]))
  if (typeof value !== 'object' || value === null) return []
  const found: PathSegment[][] = []
  for (const key of Object.keys(value)) {
    if (key === '__proto__') found.push([...path, key])
    else found.push(...findPrototypeKeys((value as Record<string, unknown>)[key], [...path, key]))
  }
  return found
}

/** Parses (or finds) the document on the first problem that needs a position. */
function lazyLocator(load: () => ParsedDocument): Locate {
  let located: Locate | undefined
  return (path) => {
    if (!located) {
      const {yaml, document, lineCounter} = load()
      located = locator(yaml, document, lineCounter)
    }
    return located(path)
  }
}

function syntaxProblem(lineCounter: LineCounter, offset: number, message: string): Problem {
  const {line, col} = lineCounter.linePos(offset)
  // The parser's message may quote the file over several lines: its first line says it.
  return {path: '', message: `not valid YAML or JSON: ${message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`, line, column: col}
}

function schemaProblems(error: z.ZodError, locate: Locate): Problem[] {
  return error.issues.map((issue) => {
    const path = issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part))
    const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys : null
    if (unknownKeys && unknownKeys.length > 0) {
      const keyPath = [...path, unknownKeys[0]!]
      return {path: formatPath(path), message: `unknown field(s) ${unknownKeys.map((key) => `"${key}"`).join(', ')}`, ...locate(keyPath)}
    }
    return {path: formatPath(path), message: issue.message, ...locate(path)}
  })
}

/** The position of the node at a path, or of the nearest node above it that exists. */
function locator(yaml: YamlModule, document: Document, lineCounter: LineCounter): Locate {
  return (path) => {
    for (let length = path.length; length >= 0; length--) {
      const node = length === 0 ? document.contents : document.getIn(path.slice(0, length), true)
      if (yaml.isNode(node) && node.range) {
        const {line, col} = lineCounter.linePos(node.range[0])
        return {line, column: col}
      }
    }
    return undefined
  }
}
