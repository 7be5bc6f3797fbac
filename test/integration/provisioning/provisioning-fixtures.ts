import * as yaml from 'yaml'
import type {Core} from '../../../src/core.js'
import {applyPlan, exportState, planFile, type ApplyOutcome, type FilePlan} from '../../../src/provisioning/provisioning.js'
import {afterAll, beforeAll} from 'vitest'
import type {DialectName} from '../../../src/db/database-url.js'
import {createTestCore, OPERATOR, type TestCore} from '../../helpers/test-core.js'

/** Plans a file (YAML text) against the core's database. */
/**
 * Two empty databases of this dialect for a describe block — one to export, one to apply the
 * export to — opened before its tests and closed after; the fields are set once beforeAll has run.
 */
export function twoEmptyCores(dialect: DialectName): {first: TestCore; second: TestCore} {
  const cores = {} as {first: TestCore; second: TestCore}
  beforeAll(async () => {
    cores.first = await createTestCore(dialect)
    cores.second = await createTestCore(dialect)
  })
  afterAll(async () => {
    await cores.first?.close()
    await cores.second?.close()
  })
  return cores
}

export function plan(core: Core, text: string, options: {prune?: boolean; file?: string} = {}): Promise<FilePlan> {
  return planFile(core, {yaml, text, file: options.file ?? 'tenants.yaml', prune: options.prune ?? false})
}

/** Plans and applies a file; throws the apply's failure. */
export async function apply(core: Core, text: string, options: {prune?: boolean} = {}): Promise<{planned: FilePlan; outcome: ApplyOutcome}> {
  const planned = await plan(core, text, options)
  const outcome = await applyPlan(core, planned.plan, {actor: OPERATOR})
  if (outcome.failure) throw outcome.failure
  return {planned, outcome}
}

export async function exportYaml(core: Core, orgs?: string[]): Promise<string> {
  return yaml.stringify(await exportState(core.database.db, {orgs, now: core.clock.now().toISOString()}))
}

/** Each change as `<action> <kind> <org>/<name>`. */
export function changeList(planned: FilePlan): string[] {
  return planned.plan.changes.map((change) => `${change.action} ${change.kind} ${change.org ? `${change.org}/` : ''}${change.name}`)
}

export async function countRows(core: Core): Promise<Record<string, number>> {
  const db = core.database.db
  const count = async (table: 'organization' | 'user_account' | 'membership' | 'role' | 'api_key' | 'flag_override' | 'feature_flag' | 'audit_event') =>
    Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow()).count)
  return {
    orgs: await count('organization'),
    users: await count('user_account'),
    members: await count('membership'),
    roles: await count('role'),
    keys: await count('api_key'),
    overrides: await count('flag_override'),
    flags: await count('feature_flag'),
    events: await count('audit_event'),
  }
}

export const ACME_FILE = `
users:
  - email: alice@acme.test
    name: Alice
  - email: bob@acme.test
    name: Bob
  - email: carol@acme.test
flags:
  - key: new-ui
    description: The new UI
    default: false
    rollout: 10
orgs:
  - slug: acme
    name: Acme
    tier: enterprise
    domain: acme.test
    limits: {seats: 50, rpm: unlimited}
    roles:
      - key: auditor
        name: Auditor
        level: 2
        permissions: [audit.read, org.read]
    members:
      - {user: alice@acme.test, role: owner}
      - {user: bob@acme.test, role: auditor}
    flags:
      new-ui: on
    api_keys:
      - {name: ci, role: member}
      - {name: reporting, permissions: [audit.read]}
  - slug: globex
    name: Globex
    members:
      - {user: carol@acme.test, role: owner}
      - {user: alice@acme.test, role: viewer}
`
