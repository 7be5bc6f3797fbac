import * as yaml from 'yaml'
import {describe, expect, it} from 'vitest'
import {isDomainError} from '../../../src/errors/domain-error.js'
import {checkFile} from '../../../src/provisioning/provisioning.js'
import {renderChange} from '../../../src/provisioning/plan-text.js'

/** The problem lines of a file that must not parse (checkFile needs no database). */
function problemsOf(text: string): string[] {
  try {
    checkFile({yaml, text, file: 'in.yaml'})
  } catch (error) {
    if (!isDomainError(error) || error.code !== 'provisioning.invalid') throw error
    return (error.details as {problems: {text: string}[]}).problems.map((problem) => problem.text)
  }
  throw new Error('the file parsed')
}

// Parsing only: the same on every dialect (no database is opened).
describe('provisioning: hostile input files', () => {
  it('an anchor expanded too often is provisioning.invalid at the first alias, not an internal error', () => {
    const text = `users:\n  - {email: u0@x.test, name: &n N}\n${Array.from({length: 120}, (_, index) => `  - {email: u${index + 1}@x.test, name: *n}`).join('\n')}\n`
    expect(problemsOf(text)).toEqual(['in.yaml:3:30: not valid YAML or JSON: aliases expand to too many nodes (at most 100 uses of an anchor)'])
  })

  it('a key given twice in JSON is refused with its place, as in YAML (JSON.parse would keep the last one)', () => {
    expect(problemsOf('{"users": [{"email": "a@x.test"}], "users": []}')).toEqual(['in.yaml:1:36: not valid YAML or JSON: Map keys must be unique'])
    expect(problemsOf('{"orgs": [{"slug": "ab", "name": "A", "name": "B"}]}')).toHaveLength(1)
    // Keys inside strings, escapes and nesting do not fool the count.
    const fine = checkFile({yaml, text: '{"users": [{"email": "quote@x.test", "name": "a \\"key\\": no"}], "orgs": [{"slug": "ab", "name": "x\\": y", "flags": {}}]}', file: 'in.json'})
    expect(fine.state.orgs[0]!.name).toBe('x": y')
  })

  it('reads only the core schema: !!binary, !!set and custom tags are problems, not Buffers or Sets', () => {
    expect(problemsOf('users:\n  - email: !!binary YUB4LnRlc3Q=\n')).toEqual(['in.yaml:2:12: not valid YAML or JSON: Unresolved tag: tag:yaml.org,2002:binary'])
    expect(problemsOf('users: !!set {a}\n')).toHaveLength(1)
    expect(problemsOf('users: !mine []\n')).toHaveLength(1)
  })

  it('a "__proto__" key is a problem with its path, in YAML and in JSON, never silently dropped', () => {
    expect(problemsOf('orgs:\n  - slug: ab\n    name: A\n    flags: {__proto__: on}\n')).toEqual(['in.yaml:4:24: orgs[0].flags.__proto__: the key "__proto__" is not allowed'])
    expect(problemsOf('{"orgs": [{"slug": "ab", "name": "A", "flags": {"__proto__": "on"}}]}')).toEqual(['in.yaml:1:62: orgs[0].flags.__proto__: the key "__proto__" is not allowed'])
  })

  it('control characters of the file (ANSI escapes) are shown escaped in problems and plan lines', () => {
    const [line] = problemsOf('orgs:\n  - slug: ab\n    name: A\n    "\\e[31mred": 1\n')
    expect(line).toContain('unknown field(s) "\\u001b[31mred"')
    expect(line).not.toMatch(/\u001b/)
    expect(renderChange({action: 'create', kind: 'user', org: null, name: 'x\u001b[2J@x.test', fields: {name: 'N\u0007'}})).toBe('+ user x\\u001b[2J@x.test (name N\\u0007)')
  })
})
