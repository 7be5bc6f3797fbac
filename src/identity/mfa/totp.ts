// otplib loads on first use: commands that never touch 2FA skip it at start.
let otplib: Promise<typeof import('otplib')> | undefined
function loadOtplib(): Promise<typeof import('otplib')> {
  otplib ??= import('otplib')
  return otplib
}

/** Every authenticator app's defaults (RFC 6238): HMAC-SHA1, 6 digits, 30-second steps. */
export const TOTP_PERIOD_SECONDS = 30
const TOTP_DIGITS = 6
const CODE_PATTERN = /^\d{6}$/

/** A fresh shared secret: 20 random bytes (160 bits, RFC 4226's recommendation), base32. */
export async function newTotpSecret(): Promise<string> {
  const {generateSecret} = await loadOtplib()
  return generateSecret({length: 20})
}

/** The otpauth:// URI an authenticator app scans: `issuer:account`, the secret, SHA1/6/30. */
export async function totpUri(input: {issuer: string; account: string; secret: string}): Promise<string> {
  const {generateURI} = await loadOtplib()
  return generateURI({issuer: input.issuer, label: input.account, secret: input.secret, algorithm: 'sha1', digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS})
}

/** A typed code as the user may write it: spaces and dashes dropped ("123 456"). */
export function normalizeTotpCode(code: string): string {
  return code.replace(/[\s-]/g, '')
}

/**
 * The time step a code belongs to when it is valid at `now` within ±1 step and newer than
 * `afterStep` (a step at or before it was used already: a replay); null otherwise. The caller
 * still records the step atomically, so two requests with one code cannot both pass.
 */
export async function matchTotpCode(secret: string, code: string, now: Date, afterStep: number | null): Promise<number | null> {
  const token = normalizeTotpCode(code)
  if (!CODE_PATTERN.test(token)) return null
  const {verify} = await loadOtplib()
  const result = await verify({
    secret,
    token,
    algorithm: 'sha1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    epoch: Math.floor(now.getTime() / 1000),
    // One step either way (clock drift between server and phone); never wider.
    epochTolerance: TOTP_PERIOD_SECONDS,
    ...(afterStep === null ? {} : {afterTimeStep: afterStep}),
  })
  // The TOTP strategy's answer carries the matched step (the union type also covers HOTP).
  return result.valid && 'timeStep' in result ? result.timeStep : null
}
