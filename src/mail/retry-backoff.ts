/** The longest wait between two attempts of one mail, whatever the base and the attempt count. */
export const MAIL_RETRY_CAP_SECONDS = 3_600

/** ± this fraction of the wait, drawn afresh each time. */
export const MAIL_RETRY_JITTER = 0.2

/**
 * How long to wait after the `failedAttempts`-th failed attempt (1 after the first):
 * base · 2^(failedAttempts − 1), capped at an hour, then ±20 % jitter so that mails that
 * failed together (an SMTP outage) do not all come back in the same second.
 * `random` returns [0, 1); injected so tests pin the jitter.
 */
export function mailRetryDelayMs(failedAttempts: number, baseSeconds: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(failedAttempts - 1, 30))
  const seconds = Math.min(baseSeconds * 2 ** exponent, MAIL_RETRY_CAP_SECONDS)
  const jitter = 1 + MAIL_RETRY_JITTER * (2 * random() - 1)
  return Math.round(seconds * 1000 * jitter)
}
