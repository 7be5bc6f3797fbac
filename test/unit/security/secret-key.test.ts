import {randomBytes} from 'node:crypto'
import {mkdtempSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {describeSettings, loadConfig} from '../../../src/config/load-config.js'
import {isSealed, openSealedText, sealText} from '../../../src/security/encryption.js'
import {createSecretKeySource, decodeSecretKey, secretKeyFileOf} from '../../../src/security/secret-key.js'

const directory = () => mkdtempSync(path.join(tmpdir(), 'saasctl-secret-'))

describe('decodeSecretKey', () => {
  it('accepts 32 bytes as hex, base64 or base64url, and nothing else', () => {
    const bytes = randomBytes(32)
    expect(decodeSecretKey(bytes.toString('hex'))).toEqual(bytes)
    expect(decodeSecretKey(bytes.toString('base64'))).toEqual(bytes)
    expect(decodeSecretKey(bytes.toString('base64url'))).toEqual(bytes)
    expect(decodeSecretKey(` ${bytes.toString('base64')}\n`)).toEqual(bytes)
    expect(decodeSecretKey(randomBytes(31).toString('hex'))).toBeNull()
    expect(decodeSecretKey(randomBytes(16).toString('base64'))).toBeNull()
    expect(decodeSecretKey('correct horse battery staple')).toBeNull()
  })
})

describe('createSecretKeySource', () => {
  it('uses the configured key', () => {
    const bytes = randomBytes(32)
    expect(createSecretKeySource({configured: bytes.toString('hex'), keyFile: null}).get()).toEqual(bytes)
  })

  it('without a configured key and no key file (Postgres), refuses with secret_key.required', () => {
    expect(() => createSecretKeySource({configured: undefined, keyFile: null}).get()).toThrow(expect.objectContaining({code: 'secret_key.required'}))
  })

  it('on SQLite creates the key file 0600 once; every later source reads the same key', () => {
    const keyFile = secretKeyFileOf(path.join(directory(), 'app.db'))
    const first = createSecretKeySource({configured: undefined, keyFile}).get()
    expect(statSync(keyFile).mode & 0o777).toBe(0o600)
    expect(first).toHaveLength(32)
    expect(createSecretKeySource({configured: undefined, keyFile}).get()).toEqual(first)
    expect(decodeSecretKey(readFileSync(keyFile, 'utf8'))).toEqual(first)
  })

  it('refuses a key file that holds no 32-byte key', () => {
    const keyFile = path.join(directory(), 'app.db.secret-key')
    writeFileSync(keyFile, 'not a key\n', {mode: 0o600})
    expect(() => createSecretKeySource({configured: undefined, keyFile}).get()).toThrow(expect.objectContaining({code: 'secret_key.invalid'}))
  })
})

describe('sealText / openSealedText (AES-256-GCM)', () => {
  const key = randomBytes(32)

  it('round-trips, with a fresh IV each time, and hides the plaintext', () => {
    const first = sealText(key, '{"d":"secret"}', 'signing_key:a')
    const second = sealText(key, '{"d":"secret"}', 'signing_key:a')
    expect(isSealed(first)).toBe(true)
    expect(first).not.toBe(second)
    expect(first).not.toContain('secret')
    expect(openSealedText(key, first, 'signing_key:a')).toBe('{"d":"secret"}')
  })

  it('does not open with another key, another context, or altered text', () => {
    const sealed = sealText(key, 'payload', 'signing_key:a')
    expect(() => openSealedText(randomBytes(32), sealed, 'signing_key:a')).toThrow()
    expect(() => openSealedText(key, sealed, 'signing_key:b')).toThrow()
    const altered = sealed.slice(0, -3) + (sealed.endsWith('AAA') ? 'BBB' : 'AAA')
    expect(() => openSealedText(key, altered, 'signing_key:a')).toThrow()
  })
})

describe('the secret_key setting', () => {
  it('is read from SAASCTL_SECRET_KEY, checked, and redacted by `saas-ctl config`', () => {
    const key = randomBytes(32).toString('base64')
    const loaded = loadConfig({env: {SAASCTL_SECRET_KEY: key}, cwd: directory()})
    expect(loaded.config.secretKey).toBe(key)
    expect(describeSettings(loaded.settings).find((setting) => setting.key === 'secret_key')).toMatchObject({value: '***', source: 'env'})
    expect(JSON.stringify(describeSettings(loaded.settings))).not.toContain(key)
    expect(() => loadConfig({env: {SAASCTL_SECRET_KEY: 'too short'}, cwd: directory()})).toThrow(expect.objectContaining({code: 'config.invalid'}))
  })
})
