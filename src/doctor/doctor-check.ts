/** How a check came out: `warn` works but deserves a look; `fail` makes `doctor` exit non-zero. */
export type CheckStatus = 'ok' | 'warn' | 'fail'

export type CheckName = 'config' | 'database' | 'migrations' | 'file_permissions' | 'secret_key' | 'signing_keys' | 'smtp' | 'clock'

/** One line of `saas-ctl doctor`: which check, how it came out, and why, with no secret in it. */
export interface CheckResult {
  check: CheckName
  status: CheckStatus
  detail: string
}

export function checkResult(check: CheckName, status: CheckStatus, detail: string): CheckResult {
  return {check, status, detail}
}

/** A check that could not run because one it depends on failed: a warning, so the cause stays the one failure. */
export function notChecked(check: CheckName, reason: string): CheckResult {
  return {check, status: 'warn', detail: `not checked: ${reason}`}
}

const SEVERITY: Record<CheckStatus, number> = {ok: 0, warn: 1, fail: 2}

/** The worse of the statuses (fail > warn > ok). */
export function worstStatus(...statuses: CheckStatus[]): CheckStatus {
  return statuses.reduce<CheckStatus>((worst, status) => (SEVERITY[status] > SEVERITY[worst] ? status : worst), 'ok')
}

/** An error as one line for a check's detail (DomainError messages are written to be shown). */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
