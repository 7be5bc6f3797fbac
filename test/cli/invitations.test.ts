import {afterAll, beforeAll, expect, it} from 'vitest'
import {hashToken} from '../../src/security/secure-token.js'
import {createCliDatabase, type CliRunner} from '../helpers/run-cli.js'
import {describeEachDialect, type TestDatabase} from '../helpers/test-database.js'

// `saas-ctl member invite`, `invite list|resend|revoke` and `org limits` (commands run in-process):
// a few runs; the rules are tested in test/integration/invitations/.
describeEachDialect('CLI invitations and org limits', (dialect) => {
  let database: TestDatabase
  let cli: CliRunner

  beforeAll(async () => {
    ;({database, cli} = await createCliDatabase(dialect, {inProcess: true}))
    expect((await cli.run(['org', 'create', '--name', 'Acme', '--slug', 'acme'])).exitCode).toBe(0)
  })
  afterAll(async () => database?.drop())

  it('invites printing the accept link, lists, resends with a new link, revokes only with --yes', async () => {
    const invited = await cli.run(['member', 'invite', 'acme', 'Ada@Example.com', '--role', 'member', '--json'])
    expect(invited.exitCode, invited.stderr).toBe(0)
    expect(invited.json).toMatchObject({invitation: {email: 'ada@example.com', role: 'member', status: 'pending', invited_by: {type: 'cli'}}, created: true})
    const {accept_url: acceptUrl, token} = invited.json as {accept_url: string; token: string}
    expect(acceptUrl).toContain(`/accept-invitation?token=${token}`)
    const id = invited.json.invitation.id as string

    const human = await cli.run(['member', 'invite', 'acme', 'bob@example.com', '--role', 'viewer'])
    expect(human.exitCode, human.stderr).toBe(0)
    expect(human.stdout).toMatch(/^accept link: https?:\/\/\S+\/accept-invitation\?token=\S+$/m)

    const again = await cli.run(['member', 'invite', 'acme', 'ada@example.com', '--role', 'member', '--json'])
    expect(again.exitCode).toBe(73)
    expect(again.json.error.code).toBe('invitation.exists')
    const tolerated = await cli.run(['member', 'invite', 'acme', 'ada@example.com', '--role', 'member', '--if-not-exists', '--json'])
    expect(tolerated.exitCode, tolerated.stderr).toBe(0)
    expect(tolerated.json).toMatchObject({invitation: {id}, accept_url: null, token: null, created: false})

    const list = await cli.run(['invite', 'list', 'acme', '--json'])
    expect(list.exitCode).toBe(0)
    expect(list.json.map((item: any) => item.email)).toEqual(['ada@example.com', 'bob@example.com'])
    expect(list.stdout).not.toContain(token)
    expect(list.stdout).not.toContain(hashToken(token))
    const table = await cli.run(['invite', 'list', 'acme'])
    expect(table.stdout).toMatch(/^EMAIL\s+ROLE\s+INVITED BY\s+EXPIRES/m)

    const resent = await cli.run(['invite', 'resend', id, '--json'])
    expect(resent.exitCode, resent.stderr).toBe(0)
    expect(resent.json.token).not.toBe(token)
    expect(resent.json.invitation.resend_count).toBe(1)

    const unconfirmed = await cli.run(['invite', 'revoke', id, '--json'])
    expect(unconfirmed.exitCode).toBe(64)
    expect(unconfirmed.json.error.code).toBe('confirmation.required')
    const revoked = await cli.run(['invite', 'revoke', id, '--yes', '--json'])
    expect(revoked.exitCode, revoked.stderr).toBe(0)
    expect(revoked.json).toMatchObject({id, status: 'revoked'})
    const missing = await cli.run(['invite', 'resend', 'no-such-invitation', '--json'])
    expect(missing.exitCode).toBe(66)
    expect(missing.json.error.code).toBe('invitation.not_found')
  })

  it('org limits: shows, overrides, refuses past the seats, clears', async () => {
    const shown = await cli.run(['org', 'limits', 'acme', '--json'])
    expect(shown.exitCode, shown.stderr).toBe(0)
    expect(shown.json).toMatchObject({org: 'acme', tier: 'free', effective: {seats: 5}, overrides: {seats: null, rpm: null}})
    const set = await cli.run(['org', 'limits', 'acme', '--seats', '1', '--rpm', 'unlimited', '--json'])
    expect(set.exitCode, set.stderr).toBe(0)
    expect(set.json).toMatchObject({effective: {seats: 1, rpm: null}, overrides: {seats: 1, rpm: 'unlimited'}})
    const full = await cli.run(['member', 'invite', 'acme', 'carol@example.com', '--role', 'viewer', '--json'])
    expect(full.exitCode).toBe(73)
    expect(full.json.error.code).toBe('org.seat_limit')
    const bad = await cli.run(['org', 'limits', 'acme', '--seats', 'many', '--json'])
    expect(bad.exitCode).toBe(65)
    // An empty or hexadecimal flag is refused, never read as 0 (a lock-out) or 16.
    for (const value of ['', '0x10', ' ']) {
      const refused = await cli.run(['org', 'limits', 'acme', '--rpm', value, '--json'])
      expect(refused.exitCode, value).toBe(65)
      expect(refused.json.error.code).toBe('validation.failed')
    }
    expect(JSON.parse((await cli.run(['org', 'limits', 'acme', '--json'])).stdout).overrides.rpm).toBe('unlimited')
    const cleared = await cli.run(['org', 'limits', 'acme', '--clear'])
    expect(cleared.exitCode, cleared.stderr).toBe(0)
    expect(cleared.stdout).toMatch(/^seats:\s+5 \(tier 5, override none\)$/m)
  })
})
