import {decodeProtectedHeader} from 'jose'
import {afterEach, expect, it} from 'vitest'
import {OPERATOR} from '../../helpers/test-core.js'
import {describeEachDialect} from '../../helpers/test-database.js'
import {auditActionsAfter, createIdentityTestCore, createPasswordUser, loginAs, openSecondProcess, type IdentityTestCore, type SecondProcess} from './identity-fixture.js'

// Issue 7, review item 4: `keys revoke <kid>` distrusts a compromised key on every process
// following the revocation log, tokens the verified-token cache already holds included.
const kidOf = (token: string) => decodeProtectedHeader(token).kid!

describeEachDialect('identity: revoking a signing key', (dialect) => {
  let t: IdentityTestCore
  let daemon: SecondProcess
  afterEach(async () => {
    await daemon?.close()
    await t?.close()
  })

  async function setUp() {
    t = await createIdentityTestCore(dialect)
    daemon = await openSecondProcess(t)
    const user = await createPasswordUser(t.core, OPERATOR, 'revoke-key')
    return user
  }

  it('revoking the active key: a cached token is refused by the other process, which then signs with a new key', async () => {
    const user = await setUp()
    const {tokens} = await loginAs(daemon.core, user.email)
    const revokedKid = kidOf(tokens.accessToken)
    // Verified once: the other process now holds it in its verified-token cache.
    await expect(daemon.core.authenticator.authenticate(tokens.accessToken)).resolves.toMatchObject({userId: user.id})

    const result = await t.core.signingKeys.revoke(OPERATOR, revokedKid)
    expect(result).toEqual({kid: revokedKid, wasActive: true, newActiveKid: expect.any(String)})
    expect(result.newActiveKid).not.toBe(revokedKid)
    await daemon.follower.syncNow()

    await expect(daemon.core.authenticator.authenticate(tokens.accessToken)).rejects.toMatchObject({code: 'auth.invalid_token'})
    await expect(t.core.authenticator.authenticate(tokens.accessToken)).rejects.toMatchObject({code: 'auth.invalid_token'})
    expect((await daemon.core.keyProvider.publicJwks()).keys.map((key) => key.kid)).not.toContain(revokedKid)
    const fresh = await loginAs(daemon.core, user.email)
    expect(kidOf(fresh.tokens.accessToken)).toBe(result.newActiveKid)
    await expect(t.core.authenticator.authenticate(fresh.tokens.accessToken)).resolves.toMatchObject({userId: user.id})
    expect((await t.core.signingKeys.listKeys()).map((key) => key.kid)).toEqual([result.newActiveKid])
    expect(await auditActionsAfter(t.core, 0, 'key.revoked')).toEqual(['key.revoked'])
  })

  it('revoking a retired key leaves the active one signing; an unknown kid is key.not_found', async () => {
    const user = await setUp()
    const {tokens} = await loginAs(daemon.core, user.email)
    const retiredKid = kidOf(tokens.accessToken)
    const rotated = await t.core.signingKeys.rotate(OPERATOR)
    await expect(daemon.core.authenticator.authenticate(tokens.accessToken)).resolves.toMatchObject({userId: user.id})

    expect(await t.core.signingKeys.revoke(OPERATOR, retiredKid)).toEqual({kid: retiredKid, wasActive: false, newActiveKid: null})
    await daemon.follower.syncNow()
    await expect(daemon.core.authenticator.authenticate(tokens.accessToken)).rejects.toMatchObject({code: 'auth.invalid_token'})
    expect((await t.core.signingKeys.listKeys()).map((key) => key.kid)).toEqual([rotated.kid])
    await expect(t.core.signingKeys.revoke(OPERATOR, retiredKid)).rejects.toMatchObject({code: 'key.not_found'})
  })

  it('a process started after the revocation refuses the key too', async () => {
    const user = await setUp()
    const {tokens} = await loginAs(t.core, user.email)
    await t.core.signingKeys.revoke(OPERATOR, kidOf(tokens.accessToken))
    const late = await openSecondProcess(t)
    try {
      await expect(late.core.authenticator.authenticate(tokens.accessToken)).rejects.toMatchObject({code: 'auth.invalid_token'})
    } finally {
      await late.close()
    }
  })
})
