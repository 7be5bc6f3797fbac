import type {CheckResult, CheckStatus} from '../src/doctor/doctor-check.js'
import {BaseCommand} from './lib/base-command.js'
import {EXIT_CODES} from './lib/exit-codes.js'
import {escapeControlCharacters} from './lib/render-table.js'

const GLYPHS: Record<CheckStatus, string> = {ok: '\u001b[32m✓\u001b[0m', warn: '\u001b[33m!\u001b[0m', fail: '\u001b[31m✗\u001b[0m'}
const WORDS: Record<CheckStatus, string> = {ok: 'ok  ', warn: 'warn', fail: 'FAIL'}

/**
 * One line per check: a coloured ✓ ! ✗ on a terminal, plain ok / warn / FAIL otherwise or with NO_COLOR.
 * Details can quote a server (an SMTP reply) or a path: control characters are shown escaped.
 */
export function formatCheckLines(results: CheckResult[], useColour: boolean): string[] {
  const width = Math.max(...results.map((result) => result.check.length))
  return results.map((result) => `${useColour ? GLYPHS[result.status] : WORDS[result.status]} ${result.check.padEnd(width)}  ${escapeControlCharacters(result.detail)}`)
}

export default class Doctor extends BaseCommand<typeof Doctor> {
  static override summary = 'Check the deployment: config, database, migrations, file permissions, keys, SMTP, clock'
  static override description =
    'One line per check (ok, warn or FAIL); migrates and creates nothing (no database, key file or mail folder). Exits 1 when any check fails. --json: [{check, status: ok|warn|fail, detail}].'

  async run(): Promise<CheckResult[]> {
    // Loaded here, not at the top: every command's start loads every command module.
    const [{runDoctor}, {checkCleanupSchedule}] = await Promise.all([import('../src/doctor/run-doctor.js'), import('../daemon/start-daemon.js')])
    const results = await runDoctor({
      loadConfig: () => this.loadConfiguration(),
      cwd: process.cwd(),
      configChecks: [checkCleanupSchedule],
    })
    const useColour = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR
    for (const line of formatCheckLines(results, useColour)) this.log(line)
    // 1, "a check found a problem" (as `audit verify`): a failure may be a setting (64), an outage (69)
    // or a file mode (77), so no one sysexits code fits; 64 and 70 stay for doctor's own usage and crash.
    if (results.some((result) => result.status === 'fail')) process.exitCode = EXIT_CODES.integrity
    return results
  }
}
