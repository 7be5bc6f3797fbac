import {Args} from '@oclif/core'
import qrcodeTerminal from 'qrcode-terminal'
import {DomainError, isDomainError} from '../../../src/errors/domain-error.js'
import {BaseCommand} from '../../lib/base-command.js'
import {createLineReader} from '../../lib/read-lines.js'

const MAX_TRIES = 3

export default class User2faEnroll extends BaseCommand<typeof User2faEnroll> {
  static override summary = "Set up a user's TOTP 2FA: scan the QR code, type a code, keep the recovery codes"
  static override description = [
    'Draws the otpauth:// URI as a QR code in the terminal and prints the secret (for typing into the app), then reads a 6-digit code: at a prompt on a terminal, else one line of standard input. Up to three tries.',
    'The ten recovery codes are printed once. With --json, the QR code and the secret go to stderr before the code is read, and stdout carries secret, otpauth_uri and recovery_codes.',
    'Refused with mfa.already_enabled while the user has 2FA on (`user 2fa reset` first).',
  ].join('\n\n')
  static override args = {user: Args.string({description: 'Email or id', required: true})}
  static override examples = ['<%= config.bin %> user 2fa enroll alice@example.com', 'echo 123456 | <%= config.bin %> user 2fa enroll alice@example.com --json']

  async run() {
    const core = await this.openCore()
    const actor = this.actor()
    const target = this.args.user
    const setup = await core.mfa.setup(actor, {user: target})
    // Under --json stdout is the result alone; what the operator needs to scan goes to stderr.
    const show = (text: string) => (this.jsonEnabled() ? process.stderr.write(`${text}\n`) : this.log(text))
    if (!this.jsonEnabled()) show(await drawQrCode(setup.otpauthUri))
    show(`Secret: ${setup.secret}`)
    show(`URI: ${setup.otpauthUri}`)
    const reader = createLineReader()
    try {
      for (let attempt = 1; ; attempt += 1) {
        const code = await reader.next('Code from the authenticator app: ')
        if (code === null) throw new DomainError('validation.failed', 'No code was given; the setup waits unconfirmed (run enroll again)', {problems: [{field: 'code', message: 'is required'}]})
        try {
          const {recoveryCodes} = await core.mfa.enable(actor, {user: target, code: code.trim()})
          this.log(`Two-factor authentication is on for ${target}.`)
          this.log('Recovery codes (each works once; they are shown only now):')
          for (const recoveryCode of recoveryCodes) this.log(`  ${recoveryCode}`)
          return {user: target, secret: setup.secret, otpauthUri: setup.otpauthUri, recoveryCodes}
        } catch (error) {
          if (!isDomainError(error) || error.code !== 'auth.invalid_mfa_code' || attempt >= MAX_TRIES) throw error
          process.stderr.write('That code is wrong; try the one the app shows now.\n')
        }
      }
    } finally {
      reader.close()
    }
  }
}

function drawQrCode(text: string): Promise<string> {
  return new Promise((resolve) => qrcodeTerminal.generate(text, {small: true}, resolve))
}
