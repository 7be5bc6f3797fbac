import {accessSync, constants, statSync} from 'node:fs'
import path from 'node:path'
import nodemailer from 'nodemailer'
import type {Config} from '../config/settings.js'
import type {DatabaseTarget} from '../db/database-url.js'
import {mailDirOf} from '../mail/configured-mail-transport.js'
import {describeSmtpFailure, withoutPassword} from '../mail/smtp-mail-transport.js'
import {checkResult, type CheckResult} from './doctor-check.js'

/**
 * With smtp_url: connects, says EHLO (and logs in when the URL has credentials) within
 * `timeoutMs`, sending nothing. Without it: mails go to .eml files in mail_dir, a warning (no one
 * receives them), and a failure when that folder cannot be written.
 */
export async function checkSmtp(config: Config, target: DatabaseTarget, cwd: string, timeoutMs: number): Promise<CheckResult> {
  if (!config.smtpUrl) return checkMailDirectory(mailDirOf(config, target, cwd))
  const relay = withoutPassword(config.smtpUrl)
  const transporter = nodemailer.createTransport({url: config.smtpUrl, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs})
  try {
    await transporter.verify()
    return checkResult('smtp', 'ok', `${relay} answered EHLO${new URL(config.smtpUrl).username ? ' and accepted the login' : ''}`)
  } catch (error) {
    return checkResult('smtp', 'fail', `${relay}: ${describeSmtpFailure(error, config.smtpUrl)}`)
  } finally {
    transporter.close()
  }
}

function checkMailDirectory(directory: string): CheckResult {
  const fallback = `no smtp_url: mails are written as .eml files into ${directory}`
  const existing = nearestExisting(directory)
  if (existing !== directory) {
    return isWritableDirectory(existing)
      ? checkResult('smtp', 'warn', `${fallback} (created on the first mail; ${existing} is writable)`)
      : checkResult('smtp', 'fail', `${fallback}, which does not exist, and ${existing} is not a writable folder to create it in`)
  }
  return isWritableDirectory(directory) ? checkResult('smtp', 'warn', `${fallback} (writable)`) : checkResult('smtp', 'fail', `${fallback}, which is not a writable folder`)
}

function nearestExisting(directory: string): string {
  let current = directory
  for (;;) {
    try {
      statSync(current)
      return current
    } catch {
      const parent = path.dirname(current)
      if (parent === current) return current
      current = parent
    }
  }
}

function isWritableDirectory(directory: string): boolean {
  try {
    if (!statSync(directory).isDirectory()) return false
    accessSync(directory, constants.W_OK | constants.X_OK)
    return true
  } catch {
    return false
  }
}
