import {spawn} from 'node:child_process'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {createCore, type Core} from '../../src/core.js'
import {BIN, createCliDatabase, type CliRunner} from '../helpers/run-cli.js'
import {totpCode} from '../helpers/rfc6238.js'
import {FAST_PASSWORD_HASHER, OPERATOR, testConfig} from '../helpers/test-core.js'
import {describeEachDialect, secretKeyEnvFor, type TestDatabase} from '../helpers/test-database.js'
import {queuedMails} from '../helpers/outbox-mail.js'

// `user 2fa enroll` as a real process: it prints the secret, then reads the code from piped
// standard input, which the test computes with its own RFC 6238 generator (the real clock).
// The other commands here run in-process.

interface InteractiveRun {
  /** Resolves with the text of `stream` once it matches `pattern`. */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp): Promise<RegExpMatchArray>
  write(text: string): void
  done: Promise<{exitCode: number; stdout: string; stderr: string}>
}

function runInteractive(databaseUrl: string, cwd: string, args: string[]): InteractiveRun {
  const child = spawn(process.execPath, [BIN, ...args], {cwd, env: {...process.env, ...secretKeyEnvFor(databaseUrl), SAASCTL_DATABASE_URL: databaseUrl, NODE_ENV: 'production'}, stdio: ['pipe', 'pipe', 'pipe']})
  const output = {stdout: '', stderr: ''}
  const waiters: Array<() => void> = []
  const wake = () => waiters.splice(0).forEach((waiter) => waiter())
  child.stdout.on('data', (chunk: Buffer) => ((output.stdout += chunk.toString('utf8')), wake()))
  child.stderr.on('data', (chunk: Buffer) => ((output.stderr += chunk.toString('utf8')), wake()))
  const done = new Promise<{exitCode: number; stdout: string; stderr: string}>((resolve) => child.on('close', (code) => (wake(), resolve({exitCode: code ?? 1, ...output}))))
  let closed = false
  void done.then(() => (closed = true))
  const timer = setTimeout(() => child.kill(), 20_000)
  void done.then(() => clearTimeout(timer))
  return {
    waitFor(stream, pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = output[stream].match(pattern)
          if (match) resolve(match)
          else if (closed) reject(new Error(`exited without ${pattern} on ${stream}: ${output.stdout}\n${output.stderr}`))
          else waiters.push(check)
        }
        check()
      })
    },
    write: (text) => child.stdin.write(text),
    done,
  }
}

describeEachDialect('CLI user 2fa and org --require-2fa', (dialect) => {
  let database: TestDatabase
  let cli: CliRunner
  let core: Core
  let counter = 0

  async function newUser(): Promise<string> {
    const email = `cli-2fa-${++counter}@example.com`
    await core.users.createUser(OPERATOR, {email, password: 'correct horse battery staple'})
    return email
  }

  beforeAll(async () => {
    ;({database, cli} = await createCliDatabase(dialect, {inProcess: true}))
    core = await createCore({config: testConfig(database.url), cwd: process.cwd(), passwords: FAST_PASSWORD_HASHER})
  })
  afterAll(async () => {
    await core?.close()
    await database?.drop()
  })

  it('enroll draws a QR code, prints the secret, takes a piped code (after a wrong one) and prints 10 recovery codes', async () => {
    const email = await newUser()
    const run = runInteractive(database.url, cli.cwd, ['user', '2fa', 'enroll', email])
    const [, secret] = (await run.waitFor('stdout', /Secret: ([A-Z2-7]+)\n/)) as [string, string]
    run.write('000000\n')
    await run.waitFor('stderr', /wrong/)
    run.write(`${totpCode(secret, new Date())}\n`)
    const result = await run.done
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(/[█▀▄]/) // the QR code, in block characters
    expect(result.stdout).toContain(`otpauth://totp/saas-ctl:${encodeURIComponent(email)}?secret=${secret}`)
    expect(result.stdout.match(/^ {2}[a-z2-9]{5}-[a-z2-9]{5}$/gm)).toHaveLength(10)
    const user = await core.users.showUser(OPERATOR, {user: email})
    expect(await core.mfa.isEnabled(core.database.db, user.id)).toBe(true)

    const again = await cli.run(['user', '2fa', 'enroll', email, '--json'])
    expect(again.exitCode).toBe(73)
    expect(again.json.error.code).toBe('mfa.already_enabled')
  })

  it('enroll --json: the secret goes to stderr first, stdout is the result; a piped stream without a code fails', async () => {
    const email = await newUser()
    const run = runInteractive(database.url, cli.cwd, ['user', '2fa', 'enroll', email, '--json'])
    const [, secret] = (await run.waitFor('stderr', /Secret: ([A-Z2-7]+)\n/)) as [string, string]
    run.write(`${totpCode(secret, new Date())}\n`)
    const result = await run.done
    expect(result.exitCode).toBe(0)
    const json = JSON.parse(result.stdout)
    expect(json).toMatchObject({user: email, secret, otpauth_uri: expect.stringContaining(secret)})
    expect(json.recovery_codes).toHaveLength(10)

    const other = await newUser()
    const noCode = await cli.run(['user', '2fa', 'enroll', other, '--json'], {input: ''})
    expect(noCode.exitCode).toBe(65)
    expect(noCode.json.error.code).toBe('validation.failed')
    const wrong = await cli.run(['user', '2fa', 'enroll', other, '--json'], {input: '000000\n000001\n000002\n'})
    expect(wrong.json.error.code).toBe('auth.invalid_mfa_code')
    expect(wrong.exitCode).not.toBe(0)
  })

  it('reset asks for confirmation unless --yes; removes the credential, audited and mailed', async () => {
    const email = await newUser()
    const {secret} = await core.mfa.setup(OPERATOR, {user: email})
    await core.mfa.enable(OPERATOR, {user: email, code: totpCode(secret, new Date())})
    const refused = await cli.run(['user', '2fa', 'reset', email, '--json'])
    expect(refused.json.error.code).toBe('confirmation.required')
    const reset = await cli.run(['user', '2fa', 'reset', email, '--yes', '--json'])
    expect(reset.exitCode).toBe(0)
    expect(reset.json).toMatchObject({user: {email}, reset: true})
    const user = await core.users.showUser(OPERATOR, {user: email})
    expect(await core.mfa.isEnabled(core.database.db, user.id)).toBe(false)
    const events = await core.audit.listEventsAfter({afterSeq: 0, action: 'user.mfa_reset'})
    expect(events.some((event) => event.target?.id === user.id && event.actor.type === 'cli')).toBe(true)
    expect(await queuedMails(core, {to: email, kind: 'mfa_reset'})).toHaveLength(1)
    const nothing = await cli.run(['user', '2fa', 'reset', email, '--yes', '--json'])
    expect(nothing.json.error.code).toBe('mfa.not_enabled')
  })
  it('org update --require-2fa / --no-require-2fa: shown by org show and org list, audited', async () => {
    const owner = await newUser()
    await core.orgs.createOrg(OPERATOR, {name: 'Strict', slug: `strict-${dialect}`, owner})
    const slug = `strict-${dialect}`
    const set = await cli.run(['org', 'update', slug, '--require-2fa', '--json'])
    expect(set.exitCode).toBe(0)
    expect(set.json).toMatchObject({slug, require_2fa: true})
    expect((await cli.run(['org', 'show', slug, '--json'])).json).toMatchObject({require_2fa: true})
    expect((await cli.run(['org', 'show', slug])).stdout).toMatch(/require 2fa:\s+yes/)
    const listed = (await cli.run(['org', 'list', '--json'])).json as Array<{slug: string; require_2fa: boolean}>
    expect(listed.find((org) => org.slug === slug)?.require_2fa).toBe(true)
    expect((await cli.run(['org', 'list'])).stdout).toMatch(new RegExp(`${slug}.*required`))
    const cleared = await cli.run(['org', 'update', slug, '--no-require-2fa', '--json'])
    expect(cleared.json).toMatchObject({slug, require_2fa: false})
    const events = await core.audit.listEventsAfter({afterSeq: 0, action: 'org.updated'})
    expect(events.filter((event) => event.target?.id === set.json.id).map((event) => event.metadata.changes)).toEqual([{require_2fa: {from: false, to: true}}, {require_2fa: {from: true, to: false}}])
  })
})
