import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {loadConfig} from '../../../src/config/load-config.js'
import {isTrustProxyEntry, parseTrustProxy} from '../../../src/config/trust-proxy.js'
import {clientFamilyOf, deviceFingerprint, deviceFamilyOf, networkOf} from '../../../src/identity/device-recognition.js'

describe('device families', () => {
  it.each([
    ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox on Linux'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'Chrome on Windows'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87', 'Edge on Windows'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15', 'Safari on macOS'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0 Mobile/15E148 Safari/604.1', 'Chrome on iOS'],
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36', 'Chrome on Android'],
    ['curl/8.5.0', 'curl'],
    ['MyApp/2.3 (build 77)', 'MyApp'],
    ['', 'unknown client'],
    [null, 'unknown client'],
  ])('%s → %s', (userAgent, family) => {
    expect(clientFamilyOf(userAgent)).toBe(family)
  })

  it('names the /24 of an IPv4 address (also IPv4-mapped) and the /48 of an IPv6 one', () => {
    expect(networkOf('203.0.113.77')).toBe('203.0.113.0/24')
    expect(networkOf('::ffff:203.0.113.77')).toBe('203.0.113.0/24')
    expect(networkOf('2001:db8:abcd:12::1')).toBe('2001:db8:abcd::/48')
    expect(networkOf('2001:0db8:00ab::')).toBe('2001:db8:ab::/48')
    expect(networkOf('::1')).toBe('0:0:0::/48')
    expect(networkOf(null)).toBe('unknown network')
    expect(networkOf('not an ip')).toBe('unknown network')
  })

  it('fingerprints the family, not the versions or the host in the network', () => {
    const a = deviceFingerprint(deviceFamilyOf({userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', ip: '198.51.100.1'}))
    const b = deviceFingerprint(deviceFamilyOf({userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0', ip: '198.51.100.254'}))
    const c = deviceFingerprint(deviceFamilyOf({userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0', ip: '198.51.101.1'}))
    expect(a).toBe(b)
    expect(c).not.toBe(a)
    expect(a).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('trust_proxy', () => {
  const cwd = () => mkdtempSync(path.join(tmpdir(), 'saasctl-trust-proxy-'))
  const load = (value: string) => loadConfig({env: {SAASCTL_TRUST_PROXY: value}, cwd: cwd()}).config.trustProxy

  it('takes a hop count or a list of addresses, CIDRs and named ranges', () => {
    expect(parseTrustProxy(undefined)).toBe(false)
    expect(parseTrustProxy(load('2'))).toBe(2)
    expect(parseTrustProxy(load('10.0.0.0/8, 192.168.1.7 ,loopback,fd00::/8'))).toEqual(['10.0.0.0/8', '192.168.1.7', 'loopback', 'fd00::/8'])
  })

  it('refuses anything else with config.invalid', () => {
    for (const value of ['true', '10.0.0.0/33', 'proxy.example.com', '11', '10.0.0.1/8/2']) {
      expect(() => load(value), value).toThrow(expect.objectContaining({code: 'config.invalid'}))
    }
    expect(isTrustProxyEntry('::1/128')).toBe(true)
    expect(isTrustProxyEntry('::1/129')).toBe(false)
  })
})
