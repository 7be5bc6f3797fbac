import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {AUDIT_ACTIONS} from '../../src/audit/audit-actions.js'

// The README's list of webhook event types is a public contract: every audit action is there.
describe('the README’s webhook event types', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const section = readme.slice(readme.indexOf('### Event types'))
  const table = section.slice(0, section.search(/\n## /))
  const listed = [...table.matchAll(/^\| `([a-z0-9_.]+)` \|/gm)].map((match) => match[1])

  it('lists every action of AUDIT_ACTIONS', () => {
    expect(readme).toContain('### Event types')
    expect(AUDIT_ACTIONS.filter((action) => !listed.includes(action))).toEqual([])
  })

  it('lists nothing that is not an action, each once', () => {
    expect(listed.filter((type) => !(AUDIT_ACTIONS as readonly string[]).includes(type!))).toEqual([])
    expect(new Set(listed).size).toBe(listed.length)
  })
})
