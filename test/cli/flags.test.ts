import {afterAll, beforeAll, expect, it} from 'vitest'
import {createCliDatabase, type CliRunner} from '../helpers/run-cli.js'
import {describeEachDialect, type TestDatabase} from '../helpers/test-database.js'

// Foundation acceptance item 6 through the CLI (in-process): rollout, override, and the reason `flag eval` names.
describeEachDialect('CLI feature flags', (dialect) => {
  let database: TestDatabase
  let cli: CliRunner

  beforeAll(async () => {
    ;({database, cli} = await createCliDatabase(dialect, {inProcess: true}))
    expect((await cli.run(['org', 'create', '--name', 'Acme', '--slug', 'acme'])).exitCode).toBe(0)
    expect((await cli.run(['flag', 'create', 'new-billing', '--rollout', '30'])).exitCode).toBe(0)
  })
  afterAll(async () => database?.drop())

  it('names the reason: rollout (with the bucket), then override, then default once both are cleared', async () => {
    const byRollout = await cli.run(['flag', 'eval', 'new-billing', '--org', 'acme', '--json'])
    expect(byRollout.exitCode).toBe(0)
    expect(byRollout.json).toMatchObject({flag: 'new-billing', org_slug: 'acme', reason: 'rollout', rollout_percentage: 30})
    expect(byRollout.json.enabled).toBe(byRollout.json.bucket <= 30)

    const forced = byRollout.json.enabled ? 'off' : 'on'
    expect((await cli.run(['flag', 'override', 'new-billing', '--org', 'acme', forced])).exitCode).toBe(0)
    const byOverride = await cli.run(['flag', 'eval', 'new-billing', '--org', 'acme', '--json'])
    expect(byOverride.json).toMatchObject({reason: 'override', enabled: forced === 'on'})

    expect((await cli.run(['flag', 'override', 'new-billing', '--org', 'acme', 'clear'])).exitCode).toBe(0)
    expect((await cli.run(['flag', 'set', 'new-billing', '--rollout', 'none', '--default', 'on'])).exitCode).toBe(0)
    const byDefault = await cli.run(['flag', 'eval', 'new-billing', '--org', 'acme', '--json'])
    expect(byDefault.json).toMatchObject({reason: 'default', enabled: true})
  })

  it('refuses a rollout outside 0–100 with the validation code and writes nothing', async () => {
    const result = await cli.run(['flag', 'set', 'new-billing', '--rollout', '101', '--json'])
    expect(result.exitCode).toBe(65)
    expect(result.json.error.code).toBe('validation.failed')
    const shown = await cli.run(['flag', 'show', 'new-billing', '--json'])
    expect(shown.json.rollout_percentage).toBeNull()
  })
})
