import {describe, expect, it} from 'vitest'
import {MAIL_RETRY_CAP_SECONDS, mailRetryDelayMs} from '../../src/mail/retry-backoff.js'

describe('mail retry backoff', () => {
  const middle = () => 0.5

  it('doubles from the base after each failed attempt and stops at one hour', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((attempts) => mailRetryDelayMs(attempts, 30, middle) / 1000)).toEqual([30, 60, 120, 240, 480, 960, 1920, 3600, 3600])
    expect(mailRetryDelayMs(1_000, 30, middle)).toBe(MAIL_RETRY_CAP_SECONDS * 1000)
  })

  it('jitters by at most ±20 %', () => {
    expect(mailRetryDelayMs(1, 30, () => 0)).toBe(24_000)
    expect(mailRetryDelayMs(1, 30, () => 0.999_999)).toBeLessThanOrEqual(36_000)
    expect(mailRetryDelayMs(1, 30, () => 0.999_999)).toBeGreaterThan(35_999)
    expect(mailRetryDelayMs(20, 30, () => 0)).toBe(MAIL_RETRY_CAP_SECONDS * 800)
  })
})
