import {chmodSync, mkdirSync, renameSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import type {Transporter} from 'nodemailer'
import {loadNodemailer} from './load-nodemailer.js'
import {MAIL_HEADERS, MailSendError, type MailTransport} from './mail-transport.js'

/**
 * Without an SMTP relay, each mail becomes an RFC 5322 `.eml` file (nodemailer's stream
 * transport builds it), so a fresh install completes every flow: the operator opens the file
 * or forwards it. The folder is 0700 and the files 0600: they carry one-time links.
 */
export function createEmlFileTransport(directory: string): MailTransport {
  // Made on the first send (loading nodemailer then), so a core that sends nothing never loads it.
  let composer: Transporter | undefined
  let isPrepared = false
  return {
    destination: directory,
    async send(mail) {
      try {
        if (!isPrepared) {
          preparePrivateDirectory(directory)
          isPrepared = true
        }
        composer ??= (await loadNodemailer()).createTransport({streamTransport: true, buffer: true, newline: 'unix'})
        const info = await composer.sendMail({...mail, headers: MAIL_HEADERS})
        const file = path.join(directory, `${fileNameOf(mail.messageId)}.eml`)
        // Written aside and renamed, so a reader (or a crash) never sees half a mail; a repeated
        // attempt of the same mail replaces its file instead of adding a second one.
        const partial = `${file}.partial`
        writeFileSync(partial, info.message as Buffer, {mode: 0o600})
        renameSync(partial, file)
        return {via: 'file', path: file}
      } catch (error) {
        // The folder may have been removed meanwhile: prepare it again on the next attempt.
        isPrepared = false
        throw new MailSendError(`could not write the mail into ${directory}: ${(error as Error).message}`)
      }
    },
    close: () => composer?.close(),
  }
}

/** Creates the folder 0700; one that exists with group or other access is narrowed to 0700. */
function preparePrivateDirectory(directory: string): void {
  mkdirSync(directory, {recursive: true, mode: 0o700})
  if (process.platform !== 'win32' && (statSync(directory).mode & 0o077) !== 0) chmodSync(directory, 0o700)
}

/** `<0190…@host>` → `0190…@host`: the Message-ID names the file, so it is unique and stable. */
function fileNameOf(messageId: string): string {
  return messageId.replace(/^<|>$/g, '').replace(/[^A-Za-z0-9@._-]/g, '_')
}
