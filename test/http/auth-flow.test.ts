import {afterAll, beforeAll, expect, it} from 'vitest'
import {startRevocationFollower} from '../../src/identity/revocation-follower.js'
import {describeEachDialect} from '../helpers/test-database.js'
import {OPERATOR} from '../helpers/test-core.js'
import {request, startTestDaemon, type TestDaemon} from './http-harness.js'

// The account flow over real HTTP: register → login → me → refresh (rotation, reuse) → logout,
// switching organizations and logging in bound to one. The revocation follower is wired to the
// core as `saas-ctl serve` wires it, so same-process revocations reach the token check at once.

const PASSWORD = 'correct horse battery staple'

async function startDaemonWithFollower(dialect: Parameters<typeof startTestDaemon>[0]): Promise<TestDaemon> {
  const daemon = await startTestDaemon(dialect)
  const {core} = daemon.testCore
  const follower = await startRevocationFollower({db: core.database.db, cache: core.revocations, clock: core.clock, pollMilliseconds: 100})
  const unsubscribe = core.revocationSignal.subscribe(() => follower.syncNow())
  daemon.running.addShutdownHook({name: 'revocation signal', stop: () => void unsubscribe()})
  daemon.running.addShutdownHook({name: 'revocation follower', stop: () => follower.stop()})
  return daemon
}

function decodeJwt(token: string): {header: Record<string, unknown>; payload: Record<string, unknown>} {
  const [header, payload] = token.split('.')
  return {header: JSON.parse(Buffer.from(header!, 'base64url').toString('utf8')), payload: JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'))}
}

describeEachDialect('auth flow over HTTP', (dialect) => {
  let daemon: TestDaemon
  let emailCounter = 0
  const nextEmail = (label: string) => `${label}-${++emailCounter}-${dialect}@example.com`

  const post = (path: string, body?: unknown, token?: string) =>
    request(`${daemon.url}${path}`, {
      method: 'POST',
      headers: {'content-type': 'application/json', ...(token ? {authorization: `Bearer ${token}`} : {})},
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  const get = (path: string, token?: string) => request(`${daemon.url}${path}`, {headers: token ? {authorization: `Bearer ${token}`} : {}})

  async function register(label: string, extra: Record<string, unknown> = {}) {
    const email = nextEmail(label)
    const response = await post('/v1/auth/register', {email, password: PASSWORD, ...extra})
    expect(response.status).toBe(201)
    return {email, body: response.json}
  }

  async function login(email: string, extra: Record<string, unknown> = {}) {
    const response = await post('/v1/auth/login', {email, password: PASSWORD, ...extra})
    expect(response.status).toBe(200)
    return response.json
  }

  function expectError(response: {status: number; json: any}, status: number, code: string) {
    expect({status: response.status, code: response.json?.error?.code}).toEqual({status, code})
    expect(typeof response.json.request_id).toBe('string')
  }

  beforeAll(async () => {
    daemon = await startDaemonWithFollower(dialect)
  })
  afterAll(async () => {
    await daemon?.close()
  })

  it('register → login → me → refresh (rotation) → reuse revokes the session → login → logout refuses the token', async () => {
    // Register: 201 with the user, their personal organization and tokens bound to it as owner.
    const email = nextEmail('Flow')
    const registered = await post('/v1/auth/register', {email: email.toUpperCase(), password: PASSWORD, name: 'Flow User'})
    expect(registered.status).toBe(201)
    const {user, org} = registered.json
    expect(user.email).toBe(email.toLowerCase())
    expect(user.name).toBe('Flow User')
    expect(user.status).toBe('active')
    expect(user).not.toHaveProperty('password_hash')
    expect(typeof org.id).toBe('string')
    expect(registered.json.token_type).toBe('Bearer')
    expect(registered.json.expires_in).toBe(900)
    expect(typeof registered.json.access_token).toBe('string')
    // Opaque and at least 256 bits.
    expect(registered.json.refresh_token.length).toBeGreaterThanOrEqual(43)
    expect(registered.json.refresh_token.split('.')).toHaveLength(1)
    const registeredClaims = decodeJwt(registered.json.access_token)
    expect(registeredClaims.header).toMatchObject({alg: 'ES256', typ: 'JWT'})
    expect(registeredClaims.payload).toMatchObject({sub: user.id, sid: registered.json.session_id, org: org.id, role: 'owner', aud: 'saas-ctl'})

    // Login: tokens of a new session, not bound to an organization.
    const loggedIn = await login(email)
    expect(loggedIn.token_type).toBe('Bearer')
    expect(loggedIn.expires_in).toBe(900)
    expect(loggedIn.session_id).not.toBe(registered.json.session_id)
    const claims = decodeJwt(loggedIn.access_token).payload
    expect(claims.sub).toBe(user.id)
    expect(claims.sid).toBe(loggedIn.session_id)
    expect(claims).not.toHaveProperty('org')
    expect(claims).not.toHaveProperty('role')
    expect((claims.exp as number) - (claims.iat as number)).toBe(900)
    for (const claim of ['iss', 'aud', 'jti']) expect(typeof claims[claim]).toBe('string')

    // Me: the user, memberships with the owner role, and this session.
    const me = await get('/v1/auth/me', loggedIn.access_token)
    expect(me.status).toBe(200)
    expect(me.json.user.id).toBe(user.id)
    expect(me.json.memberships).toEqual([{org_id: org.id, org_slug: org.slug, org_name: org.name, role: 'owner'}])
    expect(me.json.session.id).toBe(loggedIn.session_id)
    expect(me.json.active_org_id).toBeNull()
    expect(me.json.role).toBeNull()

    // Refresh rotates: a new refresh token that works in turn, the same session.
    const first = await post('/v1/auth/refresh', {refresh_token: loggedIn.refresh_token})
    expect(first.status).toBe(200)
    expect(first.json.refresh_token).not.toBe(loggedIn.refresh_token)
    expect(first.json.session_id).toBe(loggedIn.session_id)
    expect(decodeJwt(first.json.access_token).payload.sid).toBe(loggedIn.session_id)
    expect((await get('/v1/auth/me', first.json.access_token)).status).toBe(200)
    const second = await post('/v1/auth/refresh', {refresh_token: first.json.refresh_token})
    expect(second.status).toBe(200)
    expect((await get('/v1/auth/me', second.json.access_token)).status).toBe(200)

    // Reuse of an already-rotated refresh token: 401 and the whole session is revoked.
    expectError(await post('/v1/auth/refresh', {refresh_token: loggedIn.refresh_token}), 401, 'auth.refresh_token_reused')
    expectError(await post('/v1/auth/refresh', {refresh_token: second.json.refresh_token}), 401, 'auth.invalid_refresh_token')
    for (const token of [loggedIn.access_token, first.json.access_token, second.json.access_token]) {
      expectError(await get('/v1/auth/me', token), 401, 'auth.invalid_token')
    }
    const {db} = daemon.testCore.core.database
    const reuseEvents = await db.selectFrom('audit_event').select(['target_id']).where('action', '=', 'security.refresh_token_reuse').where('target_id', '=', loggedIn.session_id).execute()
    expect(reuseEvents).toHaveLength(1)
    // The registration's session is another session: untouched.
    expect((await get('/v1/auth/me', registered.json.access_token)).status).toBe(200)

    // Login again, then logout: 204, and that access token and refresh token are refused.
    const again = await login(email)
    expect((await get('/v1/auth/me', again.access_token)).status).toBe(200)
    const logout = await post('/v1/auth/logout', undefined, again.access_token)
    expect(logout.status).toBe(204)
    expect(logout.text).toBe('')
    expectError(await get('/v1/auth/me', again.access_token), 401, 'auth.invalid_token')
    expectError(await post('/v1/auth/refresh', {refresh_token: again.refresh_token}), 401, 'auth.invalid_refresh_token')
    expectError(await post('/v1/auth/logout', undefined, again.access_token), 401, 'auth.invalid_token')
    expect((await get('/v1/auth/me', registered.json.access_token)).status).toBe(200)
  })

  it('answers the same 401 for an unknown email and a wrong password', async () => {
    const {email} = await register('Creds')
    const unknown = await post('/v1/auth/login', {email: `nobody-${dialect}@example.com`, password: PASSWORD})
    const wrong = await post('/v1/auth/login', {email, password: 'not the password'})
    expectError(unknown, 401, 'auth.invalid_credentials')
    expectError(wrong, 401, 'auth.invalid_credentials')
    expect(wrong.json.error).toEqual(unknown.json.error)
  })

  it('refuses a second registration of the same email with 409', async () => {
    const {email} = await register('Twice')
    expectError(await post('/v1/auth/register', {email, password: PASSWORD}), 409, 'user.email_taken')
  })

  it('registers with an organization name of the caller’s choosing', async () => {
    const {body} = await register('Named', {org_name: 'Acme Rockets'})
    expect(body.org.name).toBe('Acme Rockets')
    expect(body.org.slug).toMatch(/^acme-rockets/)
  })

  it('switch-org: tokens bound to another org, with the role held there; not a member and no such org → the same 404', async () => {
    const {core} = daemon.testCore
    const {email, body} = await register('Switch')
    const userId = body.user.id as string
    const owned = (await core.orgs.createOrg(OPERATOR, {name: `Second ${dialect} ${emailCounter}`, owner: userId})).org
    const someoneElse = await register('Other')
    const joined = (await core.orgs.createOrg(OPERATOR, {name: `Joined ${dialect} ${emailCounter}`, owner: someoneElse.body.user.id})).org
    await core.members.addMember(OPERATOR, {org: joined.slug, user: userId, role: 'member'})
    const foreign = someoneElse.body.org

    const session = await login(email)
    // Without a refresh token: an access token only.
    const bySlug = await post('/v1/auth/switch-org', {org: owned.slug}, session.access_token)
    expect(bySlug.status).toBe(200)
    expect(bySlug.json.session_id).toBe(session.session_id)
    expect(bySlug.json).not.toHaveProperty('refresh_token')
    expect(decodeJwt(bySlug.json.access_token).payload).toMatchObject({sub: userId, sid: session.session_id, org: owned.id, role: 'owner'})
    const me = await get('/v1/auth/me', bySlug.json.access_token)
    expect(me.status).toBe(200)
    expect(me.json.active_org_id).toBe(owned.id)
    expect(me.json.role).toBe('owner')
    // Without a refresh token the session keeps its binding (its refresh token still yields unbound tokens).
    expect(me.json.session.org_id).toBeNull()
    expect(me.json.memberships.map((membership: {org_id: string; role: string}) => [membership.org_id, membership.role]).sort()).toEqual(
      [
        [body.org.id, 'owner'],
        [owned.id, 'owner'],
        [joined.id, 'member'],
      ].sort(),
    )

    // With the session's refresh token: it rotates, and both tokens come back.
    const byId = await post('/v1/auth/switch-org', {org: joined.id, refresh_token: session.refresh_token}, bySlug.json.access_token)
    expect(byId.status).toBe(200)
    expect(decodeJwt(byId.json.access_token).payload).toMatchObject({org: joined.id, role: 'member'})
    expect(byId.json.refresh_token).not.toBe(session.refresh_token)
    // The refresh token of the switch keeps the binding.
    const refreshed = await post('/v1/auth/refresh', {refresh_token: byId.json.refresh_token})
    expect(refreshed.status).toBe(200)
    expect(decodeJwt(refreshed.json.access_token).payload).toMatchObject({org: joined.id, role: 'member'})

    const refusals = [
      await post('/v1/auth/switch-org', {org: foreign.slug}, refreshed.json.access_token),
      await post('/v1/auth/switch-org', {org: foreign.id}, refreshed.json.access_token),
      await post('/v1/auth/switch-org', {org: `no-such-org-${dialect}`}, refreshed.json.access_token),
    ]
    for (const refusal of refusals) expectError(refusal, 404, 'org.not_found')
    expectError(await post('/v1/auth/switch-org', {org: owned.slug}), 401, 'auth.invalid_token')
  })

  it('login with org binds the tokens to it and carries the role; not a member and no such org → the same 404', async () => {
    const {core} = daemon.testCore
    const {email, body} = await register('Bound')
    const other = await register('Outsider')
    const shared = (await core.orgs.createOrg(OPERATOR, {name: `Shared ${dialect} ${emailCounter}`, owner: other.body.user.id})).org
    await core.members.addMember(OPERATOR, {org: shared.id, user: body.user.id, role: 'admin'})

    const bySlug = await login(email, {org: body.org.slug})
    expect(decodeJwt(bySlug.access_token).payload).toMatchObject({org: body.org.id, role: 'owner'})
    const me = await get('/v1/auth/me', bySlug.access_token)
    expect(me.json.active_org_id).toBe(body.org.id)
    expect(me.json.role).toBe('owner')

    const byId = await login(email, {org: shared.id})
    expect(decodeJwt(byId.access_token).payload).toMatchObject({org: shared.id, role: 'admin'})

    expectError(await post('/v1/auth/login', {email, password: PASSWORD, org: other.body.org.slug}), 404, 'org.not_found')
    expectError(await post('/v1/auth/login', {email, password: PASSWORD, org: `missing-${dialect}`}), 404, 'org.not_found')
    // Credentials are checked before the organization.
    expectError(await post('/v1/auth/login', {email, password: 'wrong password', org: other.body.org.slug}), 401, 'auth.invalid_credentials')
  })

  it('two concurrent refreshes with one refresh token: exactly one wins, the other is taken for reuse', async () => {
    const {email} = await register('Race')
    const session = await login(email)
    const responses = await Promise.all([0, 1].map(() => post('/v1/auth/refresh', {refresh_token: session.refresh_token})))
    expect(responses.map((response) => response.status).sort()).toEqual([200, 401])
    const loser = responses.find((response) => response.status === 401)!
    expect(loser.json.error.code).toBe('auth.refresh_token_reused')
    // Reuse revokes the session, the winner's new tokens with it.
    const winner = responses.find((response) => response.status === 200)!
    expectError(await get('/v1/auth/me', winner.json.access_token), 401, 'auth.invalid_token')
    expectError(await post('/v1/auth/refresh', {refresh_token: winner.json.refresh_token}), 401, 'auth.invalid_refresh_token')
  })

  it('refresh carries the role the user holds now, and refuses once the user is no longer a member', async () => {
    const {core} = daemon.testCore
    const {email, body} = await register('Role')
    const owner = await register('Owner')
    const org = (await core.orgs.createOrg(OPERATOR, {name: `Roles ${dialect} ${emailCounter}`, owner: owner.body.user.id})).org
    await core.members.addMember(OPERATOR, {org: org.slug, user: body.user.id, role: 'member'})
    const bound = await login(email, {org: org.slug})
    expect(decodeJwt(bound.access_token).payload.role).toBe('member')

    await core.members.setMemberRole(OPERATOR, {org: org.slug, user: body.user.id, role: 'admin'})
    const promoted = await post('/v1/auth/refresh', {refresh_token: bound.refresh_token})
    expect(promoted.status).toBe(200)
    expect(decodeJwt(promoted.json.access_token).payload).toMatchObject({org: org.id, role: 'admin'})

    await core.members.removeMember(OPERATOR, {org: org.slug, user: body.user.id})
    expectError(await post('/v1/auth/refresh', {refresh_token: promoted.json.refresh_token}), 404, 'org.not_found')
    expectError(await post('/v1/auth/switch-org', {org: org.slug}, promoted.json.access_token), 404, 'org.not_found')
  })

  it('a deleted organization can no longer be logged into or switched to, and leaves the memberships', async () => {
    const {core} = daemon.testCore
    const {email, body} = await register('Deleted')
    const doomed = (await core.orgs.createOrg(OPERATOR, {name: `Doomed ${dialect} ${emailCounter}`, owner: body.user.id})).org
    const session = await login(email)
    await core.orgs.deleteOrg(OPERATOR, {org: doomed.slug})
    // To its members too, a deleted organization is as if it did not exist.
    expectError(await post('/v1/auth/login', {email, password: PASSWORD, org: doomed.slug}), 404, 'org.not_found')
    expectError(await post('/v1/auth/switch-org', {org: doomed.id}, session.access_token), 404, 'org.not_found')
    const me = await get('/v1/auth/me', session.access_token)
    expect(me.json.memberships.map((membership: {org_id: string}) => membership.org_id)).toEqual([body.org.id])
  })

  it('a disabled user can neither log in nor refresh; enabled again, they log in', async () => {
    const {core} = daemon.testCore
    const {email, body} = await register('Disabled')
    const session = await login(email)
    await core.users.disableUser(OPERATOR, {user: body.user.id})
    expectError(await post('/v1/auth/login', {email, password: PASSWORD}), 403, 'user.disabled')
    expectError(await post('/v1/auth/refresh', {refresh_token: session.refresh_token}), 401, 'auth.invalid_refresh_token')
    expectError(await get('/v1/auth/me', session.access_token), 401, 'auth.invalid_token')
    await core.users.enableUser(OPERATOR, {user: body.user.id})
    daemon.testCore.clock.advance(1000)
    const again = await login(email)
    expect((await get('/v1/auth/me', again.access_token)).status).toBe(200)
    // The tokens from before the disablement stay refused.
    expectError(await get('/v1/auth/me', session.access_token), 401, 'auth.invalid_token')
  })

  it('registers personal organizations whose names give no slug, or a taken one', async () => {
    const first = await register('Slug', {org_name: '😀 !!! 😀'})
    const second = await register('Slug', {org_name: '😀 !!! 😀'})
    expect(first.body.org.slug).toMatch(/^[a-z0-9][a-z0-9-]*$/)
    expect(second.body.org.slug).toMatch(/^[a-z0-9][a-z0-9-]*$/)
    expect(second.body.org.slug).not.toBe(first.body.org.slug)
  })
})
