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
  // problems, come from the YAML parser then. Anything JSON.parse refuses goes to the YAML parser.
  const json = parseJson(text)
  if (json !== undefined) return checkSchema(json.value, lazyLocator(() => parseDocument(yaml, text)))
  const parsed = parseDocument(yaml, text)
  const {document, lineCounter} = parsed
  if (document.errors.length > 0) {
    // The first syntax error only: the parser's later ones mostly follow from it.
    const [first] = document.errors
    return {ok: false, problems: [syntaxProblem(lineCounter, first!.pos[0], first!.message)]}
  }
  return checkSchema(document.toJS(), lazyLocator(() => parsed))
}

function parseJson(text: string): {value: unknown} | undefined {
  if (!/^\s*\{/.test(text)) return undefined
  try {
    return {value: JSON.parse(text) as unknown}
  } catch {
    return undefined
  }
}

interface ParsedDocument {
  yaml: YamlModule
  document: Document
  lineCounter: LineCounter
}

function parseDocument(yaml: YamlModule, text: string): ParsedDocument {
  const lineCounter = new yaml.LineCounter()
  return {yaml, document: yaml.parseDocument(text, {lineCounter, prettyErrors: false, uniqueKeys: true}), lineCounter}
}

function checkSchema(raw: unknown, locate: Locate): ParsedFile {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return {ok: false, problems: [{path: '', message: 'must be a mapping with users, flags and orgs', ...locate([])}]}
  }
  const result = desiredStateSchema.safeParse(raw)
  if (!result.success) return {ok: false, problems: schemaProblems(result.error, locate)}
  return {ok: true, state: result.data, locate}
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
