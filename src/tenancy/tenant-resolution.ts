import type {Kysely} from 'kysely'
import {requirePlatformActor} from '../access/org-access.js'
import type {Actor} from '../access/principal.js'
import type {Database, OrganizationRow} from '../db/database.js'
import {DomainError} from '../errors/domain-error.js'
import {findOrgByDomain, findOrgByRef} from './org-repo.js'

/**
 * Tenant context: which organization a login or switch-org means when the request names one
 * by its body (`org`), a header (`X-Tenant-Slug`, `X-Tenant-ID`) or the host it was sent to
 * (a subdomain of the configured base domain, or an organization's custom domain).
 */

/** What a face hands over about the request: the body's `org`, the headers (lowercase names), the Host. */
export interface TenantRequest {
  bodyOrg?: string | null
  headers?: Readonly<Record<string, string | string[] | undefined>>
  host?: string | null
}

export type TenantSource = 'body' | 'header' | 'host'

/** One place that names an organization; `by` says how its `ref` is looked up. */
export interface TenantCandidate {
  source: TenantSource
  /** What the request said (for messages): the body value, the header value, or the host name. */
  ref: string
  by: 'ref' | 'slug' | 'id' | 'host'
}

export interface TenantResolutionOptions {
  /** Config base_domain: `acme.<baseDomain>` names the organization `acme`. */
  baseDomain?: string | null
  /**
   * The daemon's own host name (its issuer's): requests sent to it name no organization, even
   * when it is itself a subdomain of the base domain (auth.app.example.com is not tenant "auth").
   */
  ownHost?: string | null
}

/** The organization a request names: `org` is null when nothing by that name exists. */
export interface ResolvedTenant {
  org: OrganizationRow | null
  ref: string
  source: TenantSource
}

const MAX_REF_LENGTH = 253

/**
 * A Host header's name: lowercased, without port or trailing dot. Null for IP literals and for
 * what is not a DNS name, so addresses never name an organization.
 */
export function hostNameOf(host: string | null | undefined): string | null {
  if (!host) return null
  const name = host.trim().toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '')
  if (name.length === 0 || name.length > MAX_REF_LENGTH || name.startsWith('[')) return null
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(name)) return null
  if (/^\d+(\.\d+){3}$/.test(name)) return null
  return name
}

/** The host name of a URL (the issuer's); null when it has none or is no URL. */
export function hostNameOfUrl(url: string): string | null {
  try {
    return hostNameOf(new URL(url).host)
  } catch {
    return null
  }
}

/** `acme` for `acme.app.example.com` under `app.example.com`; null for the base domain itself, deeper names and other hosts. */
export function subdomainSlugOf(hostName: string, baseDomain: string | null | undefined): string | null {
  if (!baseDomain) return null
  const suffix = `.${baseDomain.toLowerCase()}`
  if (!hostName.endsWith(suffix)) return null
  const label = hostName.slice(0, -suffix.length)
  return label.length > 0 && !label.includes('.') ? label : null
}

function headerValue(headers: TenantRequest['headers'], name: string): string | null {
  const raw = headers?.[name]
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim()
  return value ? value.slice(0, MAX_REF_LENGTH) : null
}

/** Every place the request names an organization, in precedence order: body, headers, host. Pure. */
export function tenantCandidates(request: TenantRequest): TenantCandidate[] {
  const candidates: TenantCandidate[] = []
  const bodyOrg = request.bodyOrg?.trim()
  if (bodyOrg) candidates.push({source: 'body', ref: bodyOrg, by: 'ref'})
  const slug = headerValue(request.headers, 'x-tenant-slug')
  if (slug) candidates.push({source: 'header', ref: slug, by: 'slug'})
  const id = headerValue(request.headers, 'x-tenant-id')
  if (id) candidates.push({source: 'header', ref: id, by: 'id'})
  const hostName = hostNameOf(request.host)
  if (hostName) candidates.push({source: 'host', ref: hostName, by: 'host'})
  return candidates
}

/**
 * The organization a host belongs to: an org's custom domain first (exact), else a subdomain
 * of the base domain. 'none' when the host is neither (it names no organization); null when
 * it names one that does not exist.
 */
export async function findOrgByHost(db: Kysely<Database>, hostName: string, baseDomain: string | null | undefined): Promise<OrganizationRow | null | 'none'> {
  const byDomain = await findOrgByDomain(db, hostName)
  if (byDomain) return byDomain
  const slug = subdomainSlugOf(hostName, baseDomain)
  if (!slug) return 'none'
  return (await db.selectFrom('organization').selectAll().where('slug', '=', slug).executeTakeFirst()) ?? null
}

async function lookUp(db: Kysely<Database>, candidate: TenantCandidate, options: TenantResolutionOptions): Promise<OrganizationRow | null | 'none'> {
  switch (candidate.by) {
    case 'ref':
      return findOrgByRef(db, candidate.ref)
    case 'slug':
      return (await db.selectFrom('organization').selectAll().where('slug', '=', candidate.ref.toLowerCase()).executeTakeFirst()) ?? null
    case 'id':
      return (await db.selectFrom('organization').selectAll().where('id', '=', candidate.ref).executeTakeFirst()) ?? null
    case 'host':
      return findOrgByHost(db, candidate.ref, options.baseDomain)
  }
}

/**
 * Every place the request names an organization, in precedence order, with what each names
 * (`org` null when nothing by that name exists; deleted organizations as they are). Empty when
 * the request names none. It does not judge: whether the caller may use them, and whether
 * they agree, is the caller's to decide (see org-binding.ts), so that an organization the
 * caller does not belong to answers the same whether it exists or not.
 */
export async function resolveTenantSources(db: Kysely<Database>, request: TenantRequest, options: TenantResolutionOptions = {}): Promise<ResolvedTenant[]> {
  const named: ResolvedTenant[] = []
  for (const candidate of tenantCandidates(request)) {
    if (candidate.by === 'host' && candidate.ref === options.ownHost) continue
    const org = await lookUp(db, candidate, options)
    if (org !== 'none') named.push({org, ref: candidate.ref, source: candidate.source})
  }
  return named
}

/** tenant.ambiguous: the sources name different organizations (callers raise it only once each is known to be usable). */
export function ambiguousTenant(sources: readonly ResolvedTenant[]): DomainError {
  const names = [...new Set(sources.map((tenant) => tenant.source))]
  return new DomainError('tenant.ambiguous', `The request names different organizations (${names.join(', ')}); name one`, {sources: names})
}

/** The public face of an organization a host belongs to (for an app's gateway). */
export interface HostTenant {
  id: string
  slug: string
  name: string
  tier: string
}

export type TenantResolver = ReturnType<typeof createTenantResolver>

export function createTenantResolver(deps: {db: Kysely<Database>} & TenantResolutionOptions) {
  return {
    /**
     * The live organization a host belongs to (custom domain, or subdomain of the base
     * domain). Platform principals only (the introspection client counts as one). Raises
     * platform.required, org.not_found.
     */
    async resolveHost(actor: Actor, input: {host: string}): Promise<{org: HostTenant}> {
      await requirePlatformActor(deps.db, actor, 'resolve tenants')
      const hostName = hostNameOf(input.host)
      const org = hostName && hostName !== deps.ownHost ? await findOrgByHost(deps.db, hostName, deps.baseDomain) : 'none'
      if (!org || org === 'none' || org.deleted_at) throw new DomainError('org.not_found', `No organization at "${input.host}"`)
      return {org: {id: org.id, slug: org.slug, name: org.name, tier: org.tier}}
    },
  }
}
