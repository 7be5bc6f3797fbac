import {escapeControlCharacters} from '../shared/display-text.js'
import {DomainError} from '../errors/domain-error.js'

/** One thing wrong with a provisioning file: where (the path in the file, and line:column when known) and what. */
export interface Problem {
  /** e.g. `orgs[3].members[1].role`; '' for the file as a whole. */
  path: string
  message: string
  line?: number
  column?: number
}

export type PathSegment = string | number

/** `['orgs', 3, 'members', 1, 'role']` → `orgs[3].members[1].role`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let text = ''
  for (const segment of segments) {
    if (typeof segment === 'number') text += `[${segment}]`
    else text += text === '' ? segment : `.${segment}`
  }
  return text
}

/** `tenants.yaml:12:9: orgs[3].members[1].role: unknown role "admn"`. */
export function formatProblem(file: string, problem: Problem): string {
  const where = problem.line === undefined ? file : `${file}:${problem.line}:${problem.column ?? 1}`
  // The path and message may quote the file (an unknown key, a value): its control characters are shown escaped.
  return escapeControlCharacters(problem.path ? `${where}: ${problem.path}: ${problem.message}` : `${where}: ${problem.message}`)
}

/**
 * Every problem found in the file, as one provisioning.invalid error: its message is the one
 * problem, or a count; details.problems lists them all (the command prints each on its own line).
 */
export function invalidFileError(file: string, problems: Problem[]): DomainError {
  const lines = problems.map((problem) => formatProblem(file, problem))
  const message = problems.length === 1 ? `${lines[0]!}; nothing was written` : `${file}: ${problems.length} problems; nothing was written`
  return new DomainError('provisioning.invalid', message, {file, problems: problems.map((problem, index) => ({...problem, text: lines[index]}))})
}
