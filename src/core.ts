import {v7 as uuidv7} from 'uuid'
import {createMemberService} from './access/member-service.js'
import {createRoleService} from './access/role-service.js'
import {createBearerAuthenticator} from './access/bearer-authenticator.js'
import {createApiKeyService} from './apikeys/api-key-service.js'
import {createAuditLog} from './audit/audit-log.js'
import {createAuditNameResolver} from './audit/audit-names.js'
import type {Kysely} from 'kysely'
import type {Config} from './config/settings.js'
import type {Database} from './db/database.js'
import {parseDatabaseUrl} from './db/database-url.js'
import {ensureSchemaCurrent, migrateToLatest} from './db/migrations.js'
import {openDatabase, type OpenedDatabase} from './db/open-database.js'
import {flagOverridesPurgeHook} from './flags/flag-purge-hook.js'
import {createFlagService} from './flags/flag-service.js'
import {createInvitationService} from './invitations/invitations.js'
import {createDatabaseKeyProvider} from './identity/database-key-provider.js'
import {createRevocationCache} from './identity/revocation-cache.js'
import {createRevocationSignal, type RevocationSignal} from './identity/revocation-signal.js'
import {sessionsPurgeHook} from './identity/session-purge-hook.js'
import {createPasswordConfirmation} from './identity/password-confirmation.js'
import {createSessionService} from './identity/session-service.js'
import {createSigningKeyStore} from './identity/signing-key-store.js'
import {createTokenAuthenticator} from './identity/token-authenticator.js'
import {createUserService} from './identity/user-service.js'
import {createAccountService} from './identity/account-service.js'
import {createLoginGuard} from './identity/login-guard.js'
import {loginPurgeHook} from './identity/login-purge-hook.js'
import {createMfaService} from './identity/mfa/mfa-service.js'
import {createJobService} from './jobs/job-service.js'
import {createMailOutbox} from './mail/mail-outbox.js'
import {createMailServices} from './mail/mail-services.js'
import {createAccessTokenIssuer} from './security/access-tokens.js'
import {systemClock, type Clock} from './security/clock.js'
import {createPasswordHasher, type PasswordHasher} from './security/password-hasher.js'
import {createSecretKeySource, generateSecretKeyText, secretKeyFileOf} from './security/secret-key.js'
import {createPurgeHooks} from './shared/purge-hooks.js'
import type {ServiceDeps} from './shared/service-deps.js'
import {customRolesPurgeHook, membershipsPurgeHook} from './tenancy/org-purge-hooks.js'
import {createOrgLimitsService} from './tenancy/org-limits-service.js'
import {createOrgService} from './tenancy/org-service.js'
import {createTenantResolver, hostNameOfUrl} from './tenancy/tenant-resolution.js'
import type {TierTable} from './tenancy/tiers.js'
import type {HostResolver} from './webhooks/ssrf-guard.js'
import {createWebhookServices} from './webhooks/webhook-services.js'

export interface CoreOptions {
  config: Config
  /** Relative SQLite paths resolve against it. */
  cwd: string
  clock?: Clock
  newId?: () => string
  passwords?: PasswordHasher
  /**
   * 'ensure' (default): migrate SQLite on the spot, refuse Postgres with pending migrations.
   * 'migrate': apply pending migrations on either (serve --migrate).
   */
  schema?: 'ensure' | 'migrate'
  /** How webhook hosts are resolved for the SSRF guard (default: the system's resolver; tests inject one). */
  webhookResolver?: HostResolver
}

export type Core = Awaited<ReturnType<typeof createCore>>

/** Opens the configured database without touching its schema (for `migrate` commands). */
export async function openConfiguredDatabase(config: Config, cwd: string): Promise<OpenedDatabase> {
  return openDatabase(parseDatabaseUrl(config.databaseUrl, cwd))
}

/** The one place that wires the core: the database, the clock, ids, and every service. */
export async function createCore(options: CoreOptions) {
  const database = await openConfiguredDatabase(options.config, options.cwd)
  try {
    if (options.schema === 'migrate') await migrateToLatest(database.db)
    else await ensureSchemaCurrent(database.db, database.dialect)
  } catch (error) {
    await database.close()
    throw error
  }
  const deps: ServiceDeps = {db: database.db, clock: options.clock ?? systemClock, newId: options.newId ?? (() => uuidv7())}
  const {config} = options
  // The deployment's secret key, resolved on first use; it also signs the audit checkpoints.
  const secretKey = secretKeySourceOf(config, database)
  const audit = createAuditLog({...deps, secretKey, checkpointInterval: config.auditCheckpointInterval, retentionDays: config.auditRetentionDays})
  const passwords = options.passwords ?? createPasswordHasher()
  const accessTokenTtlSeconds = config.accessTokenTtlSeconds
  const revocationSignal = createRevocationSignal()
  // Each feature registers what it deletes with an org (or a user); they run in reverse order,
  // so rows that point at a role (memberships, API keys) go before the custom roles.
  const purgeHooks = createPurgeHooks()
  purgeHooks.register(customRolesPurgeHook)
  purgeHooks.register(membershipsPurgeHook)
  purgeHooks.register(flagOverridesPurgeHook)
  purgeHooks.register(sessionsPurgeHook)
  // Turning require_2fa on asks the TOTP service (made below) which members have 2FA on.
  const secondFactor = {isEnabled: (db: Parameters<typeof mfa.isEnabled>[0], userId: string) => mfa.isEnabled(db, userId)}
  // Identity: nothing here touches the database until first used, so CLI commands stay cheap.
  const signingKeys = createSigningKeyStore({...deps, audit, accessTokenTtlSeconds, secretKey})
  const revocations = createRevocationCache(deps.clock)
  const keyProvider = createDatabaseKeyProvider(signingKeys, deps.clock, revocations)
  const issuer = issuerOf(config)
  // Links in mails start with public_url; Message-IDs name its host.
  const publicUrl = (config.publicUrl ?? issuer).replace(/\/+$/, '')
  const mail = createMailOutbox({...deps, secretKey, messageIdDomain: hostNameOfUrl(publicUrl) ?? 'saas-ctl.localhost'})
  // Brute-force defence of logins: failure budgets, lockouts, the attempt log and its purge.
  const loginGuard = createLoginGuard({...deps, audit, mail, policy: {failedAttemptsPerMinute: config.failedAttemptsPerMinute, lockoutThreshold: config.lockoutThreshold, lockoutSeconds: config.lockoutSeconds, attemptRetentionDays: config.attemptRetentionDays}, publicUrl})
  // A password typed again to confirm a change is guarded like a login (budget and lock).
  const passwordConfirmation = createPasswordConfirmation({db: deps.db, guard: loginGuard, passwords})
  // Email verification, password reset by mailed link, email changes.
  const account = createAccountService({
    ...deps,
    audit,
    mail,
    passwords,
    revocationSignal,
    publicUrl,
    accessTokenTtlSeconds,
    emailVerificationTtlSeconds: config.emailVerificationTtlSeconds,
    passwordResetTtlSeconds: config.passwordResetTtlSeconds,
    failedAttemptsPerMinute: config.failedAttemptsPerMinute,
    passwordConfirmation,
  })
  purgeHooks.register(account.purgeHook)
  // The deployment's tier table: seats and requests per minute, before per-org overrides.
  const tiers: TierTable = {seats: config.tierSeats, requestsPerMinute: config.tierRpm}
  /**
   * The administrative services (users, flags, orgs, limits, roles, members, API keys) on a
   * given database handle: the core's own on the database, and provisioning's on one
   * transaction (every method's inTransaction then joins it), wired once so they cannot drift.
   * `signal` stands in for the revocation signal (provisioning defers it until its commit).
   */
  const servicesOn = (db: Kysely<Database>, signal: RevocationSignal) => {
    const on = {...deps, db}
    const access = {...on, audit, accessTokenTtlSeconds, revocationSignal: signal}
    return {
      users: createUserService({...access, passwords, purgeHooks, emailChanges: account.emailChanges}),
      flags: createFlagService({...on, audit}),
      orgs: createOrgService({...access, purgeHooks, allowUserOrgCreation: config.allowUserOrgCreation, secondFactor}),
      orgLimits: createOrgLimitsService({...on, audit, tiers}),
      roles: createRoleService(access),
      members: createMemberService({...access, tiers}),
      apiKeys: createApiKeyService({...on, audit}),
    }
  }
  const administration = servicesOn(deps.db, revocationSignal)
  const {orgs, users, apiKeys} = administration
  // TOTP 2FA: also the SecondFactor the login flow checks codes with.
  const mfa = createMfaService({...deps, audit, guard: loginGuard, passwordConfirmation, secretKey, mail, publicUrl, totpIssuer: config.totpIssuer})
  purgeHooks.register(mfa.purgeHook)
  const jobs = createJobService({...deps, signingKeys, accessTokenTtlSeconds})
  jobs.register(loginGuard.purgeJob)
  jobs.register(audit.retentionJob)
  purgeHooks.register(loginPurgeHook)
  const login = {guard: loginGuard, secondFactor: mfa, mail, publicUrl, requireVerifiedEmail: config.requireVerifiedEmail, mfaTokenTtlSeconds: config.mfaTokenTtlSeconds}
  const mailServices = createMailServices({...deps, audit, jobs, outbox: mail, secretKey, publicUrl, config, target: database.target, cwd: options.cwd})
  const tokens = createAccessTokenIssuer({issuer, audience: config.audience, lifetimeSeconds: accessTokenTtlSeconds, clock: deps.clock, keyProvider})
  const authenticator = createTokenAuthenticator({tokens, revocations, clock: deps.clock})
  // Invitations: seats, the accept link mailed through the outbox, accounts created by accepting.
  const invitations = createInvitationService({...deps, audit, mail, passwords, tiers, publicUrl, invitationTtlSeconds: config.invitationTtlSeconds, invitationMailsPerDay: config.invitationMailsPerDay, registration: config.registration, failedAttemptsPerMinute: config.failedAttemptsPerMinute})
  purgeHooks.register(invitations.purgeHook)
  // Outgoing webhooks: a delivery per subscribed endpoint is written on every audit append.
  const webhookServices = createWebhookServices({...deps, audit, jobs, secretKey, config, resolve: options.webhookResolver})
  purgeHooks.register(webhookServices.service.purgeHook)
  // Registered after the custom roles, so an org's keys (which point at its roles) go first.
  purgeHooks.register(apiKeys.purgeHook)
  const policy = {accessTokenTtlSeconds, refreshTokenTtlSeconds: config.refreshTokenTtlSeconds, sessionAbsoluteTtlSeconds: config.sessionAbsoluteTtlSeconds, maxSessionsPerUser: config.maxSessionsPerUser}
  // Hosts name organizations under base_domain; the daemon's own host (the issuer's) never does.
  const tenancy = {baseDomain: config.baseDomain, ownHost: hostNameOfUrl(issuer)}
  return {
    tiers,
    config,
    issuer,
    database,
    clock: deps.clock,
    /** The id source every service uses. */
    newId: deps.newId,
    /** The administrative services built on another handle (a transaction): see servicesOn above. */
    servicesOn,
    audit,
    /** Org slugs and user emails for the ids in audit events (`audit tail`'s human form). */
    auditNames: createAuditNameResolver({db: deps.db}),
    orgs,
    purgeHooks,
    users,
    members: administration.members,
    roles: administration.roles,
    flags: administration.flags,
    passwords,
    signingKeys: {
      ...signingKeys,
      // The process that rotates signs with the new key at once; others within KEY_RELOAD_INTERVAL_MS.
      rotate: async (...args: Parameters<typeof signingKeys.rotate>) => {
        const key = await signingKeys.rotate(...args)
        await keyProvider.reload()
        return key
      },
      // Revoked everywhere through the revocation log; this process follows it at once.
      revoke: async (...args: Parameters<typeof signingKeys.revoke>) => {
        const result = await signingKeys.revoke(...args)
        await revocationSignal.notify()
        await keyProvider.reload()
        return result
      },
    },
    keyProvider,
    /** The deployment's secret key (encryption at rest), resolved on first use. */
    secretKey,
    tokens,
    revocations,
    authenticator,
    apiKeys,
    /** Invitations to organizations: invite, list, resend, revoke; show and accept by token. */
    invitations,
    /** Per-org limit overrides (`org limits`, GET/PATCH /v1/orgs/{org}/limits). */
    orgLimits: administration.orgLimits,
    /** The principal behind a Bearer credential: an API key (`sk_…`) or an access token. */
    bearer: createBearerAuthenticator({tokens: authenticator, apiKeys}),
    revocationSignal,
    /** Which organization a host belongs to (custom domain or subdomain of base_domain). */
    tenants: createTenantResolver({db: deps.db, ...tenancy}),
    sessions: createSessionService({...deps, audit, passwords, tokens, orgs, policy, revocationSignal, tenancy, login, passwordConfirmation, registration: config.registration, emailVerification: account.emailVerification}),
    /** Lockouts and failure budgets of logins (`user unlock`). */
    loginGuard,
    jobs,
    /** Where users reach the service (links in mails). */
    publicUrl,
    /** Mail written in a transaction, delivered later (see src/mail/). */
    mail,
    /** Email verification, password reset, email changes (src/identity/account-service.ts). */
    account,
    /** Sends due outbox mail (the daemon's worker calls deliverDue). */
    mailDelivery: mailServices.delivery,
    /** The operator's `mail` commands: list, retry, test. */
    mailAdmin: mailServices.admin,
    /** TOTP 2FA: enrolment, recovery codes, reset; the login's SecondFactor. */
    mfa,
    /** Outgoing webhook endpoints, their delivery log, replays and tests (src/webhooks/). */
    webhooks: webhookServices.service,
    /** Sends due webhook deliveries (the daemon's worker calls deliverDue). */
    webhookDelivery: webhookServices.delivery,
    close: () => {
      mailServices.delivery.close()
      return database.close()
    },
  }
}

/**
 * secret_key when set; else on SQLite the key file beside the database (an in-memory database
 * gets a key that dies with it); on Postgres none, so whatever needs it refuses.
 */
function secretKeySourceOf(config: Config, database: OpenedDatabase) {
  const {target} = database
  if (target.dialect === 'postgres') return createSecretKeySource({configured: config.secretKey, keyFile: null})
  if (target.file === ':memory:') return createSecretKeySource({configured: config.secretKey ?? generateSecretKeyText(), keyFile: null})
  return createSecretKeySource({configured: config.secretKey, keyFile: secretKeyFileOf(target.file)})
}

/** The token issuer: configured, or the daemon's own address. */
export function issuerOf(config: Config): string {
  return (config.issuer ?? `http://${config.host}:${config.port}`).replace(/\/+$/, '')
}
