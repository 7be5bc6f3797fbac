import path from 'node:path'
import type {DatabaseTarget} from '../db/database-url.js'
import {createEmlFileTransport} from './eml-file-transport.js'
import type {MailTransport} from './mail-transport.js'
import {createSmtpMailTransport} from './smtp-mail-transport.js'

export const DEFAULT_MAIL_DIR_NAME = 'saas-ctl-mail'

/**
 * The folder of `.eml` files: mail_dir (relative to the working directory), else
 * saas-ctl-mail/ beside the SQLite database file, else (Postgres, in-memory SQLite)
 * ./saas-ctl-mail/ in the working directory.
 */
export function mailDirOf(settings: {mailDir?: string}, target: DatabaseTarget, cwd: string): string {
  if (settings.mailDir) return path.resolve(cwd, settings.mailDir)
  if (target.dialect === 'sqlite' && target.file !== ':memory:') return path.join(path.dirname(target.file), DEFAULT_MAIL_DIR_NAME)
  return path.resolve(cwd, DEFAULT_MAIL_DIR_NAME)
}

/** SMTP when smtp_url is set, else `.eml` files in the mail folder. */
export function createConfiguredMailTransport(settings: {smtpUrl?: string; mailDir?: string}, target: DatabaseTarget, cwd: string): MailTransport {
  return settings.smtpUrl ? createSmtpMailTransport(settings.smtpUrl) : createEmlFileTransport(mailDirOf(settings, target, cwd))
}
