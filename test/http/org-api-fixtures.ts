import {expect} from 'vitest'
import type {DialectName} from '../../src/db/database-url.js'
import {OPERATOR} from '../helpers/test-core.js'
import {request, startTestDaemon, type TestDaemon} from './http-harness.js'

// Principals for the organization API tests: users registered over HTTP, organizations and
// memberships set up by the operator through the core, tokens from logging in bound to an org.

export const PASSWORD = 'correct horse battery staple'
export const INTROSPECTION_SECRET = 'introspection-secret-for-org-api-tests-0123456789'

export interface Account {
  email: string
  userId: string
  /** The personal organization registration made. */
  personalOrgId: string
  /** An access token bound to the personal organization. */
  token: string
}

export interface Response {
  status: number
  json: any
  text: string
  headers: Headers
}

export type OrgApi = Awaited<ReturnType<typeof startOrgApi>>

/** The daemon with introspection on, and helpers that speak to it. */
export async function startOrgApi(dialect: DialectName) {
  const daemon: TestDaemon = await startTestDaemon(dialect, {settings: {introspectionSecret: INTROSPECTION_SECRET}})
  // The introspection route reads the core's config, which the harness builds on its own.
  daemon.testCore.core.config.introspectionSecret = INTROSPECTION_SECRET
  const {core} = daemon.testCore
  let counter = 0
  const unique = (label: string) => `${label}-${++counter}-${dialect}`
  // The test clock stands still, so a token and a revocation right after it would share a
  // millisecond, and org-scoped revocations void only tokens issued strictly before them.
  const tick = () => daemon.testCore.clock.advance(1)

  const send = (method: string, path: string, token?: string, body?: unknown): Promise<Response> =>
    request(`${daemon.url}${path}`, {
      method,
      headers: {...(body === undefined ? {} : {'content-type': 'application/json'}), ...(token ? {authorization: `Bearer ${token}`} : {})},
      body: body === undefined ? undefined : JSON.stringify(body),
    })

  const api = {
    daemon,
    core,
    unique,
    get: (path: string, token?: string) => send('GET', path, token),
    post: (path: string, token?: string, body?: unknown) => send('POST', path, token, body),
    patch: (path: string, token?: string, body?: unknown) => send('PATCH', path, token, body),
    del: (path: string, token?: string) => send('DELETE', path, token),

    /** A new user with a personal organization, over HTTP. */
    async register(label: string): Promise<Account> {
      const email = `${unique(label)}@example.com`
      const response = await send('POST', '/v1/auth/register', undefined, {email, password: PASSWORD})
      expect(response.status).toBe(201)
      tick()
      return {email, userId: response.json.user.id, personalOrgId: response.json.org.id, token: response.json.access_token}
    },

    /** An access token bound to `org` (a slug or id). */
    async login(email: string, org: string): Promise<string> {
      const response = await send('POST', '/v1/auth/login', undefined, {email, password: PASSWORD, org})
      expect(response.status, JSON.stringify(response.json)).toBe(200)
      tick()
      return response.json.access_token
    },

    /** A platform admin, made by the operator, with an access token bound to no organization. */
    async platformAdmin(): Promise<{email: string; userId: string; token: string}> {
      const email = `${unique('platform')}@example.com`
      const {user} = await core.users.createUser(OPERATOR, {email, password: PASSWORD, isPlatformAdmin: true})
      const response = await send('POST', '/v1/auth/login', undefined, {email, password: PASSWORD})
      expect(response.status, JSON.stringify(response.json)).toBe(200)
      tick()
      return {email, userId: user.id, token: response.json.access_token}
    },

    /** What introspection says of a token now. */
    async isActive(token: string): Promise<boolean> {
      const response = await request(`${daemon.url}/v1/tokens/introspect`, {
        method: 'POST',
        headers: {'content-type': 'application/json', authorization: `Bearer ${INTROSPECTION_SECRET}`},
        body: JSON.stringify({token}),
      })
      expect(response.status).toBe(200)
      return response.json.active as boolean
    },

    /**
     * An organization made by the operator, its owner and a member of each other role given,
     * each with a token bound to it.
     */
    async seedOrg(label: string, roles: readonly string[] = ['admin', 'member', 'viewer']) {
      const slug = unique(label)
      const owner = await api.register(`${label}-owner`)
      const {org} = await core.orgs.createOrg(OPERATOR, {name: `${label} Inc.`, slug, owner: owner.email})
      const people: Record<string, Account & {bound: string}> = {owner: {...owner, bound: await api.login(owner.email, slug)}}
      for (const role of roles) {
        const account = await api.register(`${label}-${role}`)
        await core.members.addMember(OPERATOR, {org: slug, user: account.email, role})
        people[role] = {...account, bound: await api.login(account.email, slug)}
      }
      return {org, slug, people: people as Record<'owner' | 'admin' | 'member' | 'viewer' | string, Account & {bound: string}>}
    },

    close: () => daemon.close(),
  }
  return api
}

/** Asserts an error answer by status and code (never message text). */
export function expectError(response: Response, status: number, code: string): void {
  expect({status: response.status, code: response.json?.error?.code}).toEqual({status, code})
  expect(typeof response.json.request_id).toBe('string')
}

/** Every key of a JSON value, deeply: the wire must be snake_case throughout. */
export function camelCaseKeysOf(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) camelCaseKeysOf(item, found)
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (/[A-Z]/.test(key)) found.push(key)
      camelCaseKeysOf(inner, found)
    }
  }
  return found
}
