import {closeSync, createWriteStream, fsyncSync, type WriteStream} from 'node:fs'
import {Flags} from '@oclif/core'
import {AUDIT_EXPORT_FORMATS, writeAuditExport} from '../../src/audit/audit-export.js'
import type {AuditFilter} from '../../src/audit/audit-log.js'
import {parseSince} from '../../src/audit/parse-since.js'
import {openPrivateTemporaryFile, publishTemporaryFile, unlinkSafely} from '../../src/backup/private-file.js'
import {BaseCommand} from '../lib/base-command.js'
import {resolveAuditOrgId} from './resolve-org.js'

/** How often the progress line is redrawn. */
const PROGRESS_INTERVAL_MILLISECONDS = 250

export default class AuditExport extends BaseCommand<typeof AuditExport> {
  static override summary = 'Write audit events, oldest first, as JSON Lines or CSV, to a file or stdout'
  static override description = [
    'Streams in constant memory: events are read a batch at a time by position (seq) and written as the output takes them, so millions of rows need no more memory than one batch.',
    'JSON Lines: one event per line, as `audit tail --json` prints it. CSV: a fixed header (seq, id, created_at, action, org_id, actor_type, actor_id, actor_name, target_type, target_id, ip, user_agent, request_id, metadata), metadata as JSON text, cells that a spreadsheet would run as a formula prefixed with \'.',
    'A file given with -o is written to a new temporary file (mode 0600: events carry IP addresses and emails) in the same directory, then renamed over the path: a symbolic link there is replaced, never followed, and a failed export leaves whatever was there untouched. On a terminal a progress line goes to stderr (not with --json).',
  ].join(' ')

  static override flags = {
    org: Flags.string({description: 'Only events of this organization (slug or id; the id of a purged one works too)'}),
    since: Flags.string({description: 'Only events since an ISO time or a duration back (15m, 2h, 7d)'}),
    format: Flags.option({description: 'Output format', options: AUDIT_EXPORT_FORMATS, default: 'jsonl' as const})(),
    output: Flags.string({char: 'o', description: 'Write to this file (mode 0600) instead of stdout'}),
    'batch-size': Flags.integer({description: 'Events read per query', default: 1000, min: 1, max: 100_000, hidden: true}),
  }

  async run() {
    const core = await this.openCore()
    const filter: AuditFilter = {}
    if (this.flags.since) filter.since = parseSince(this.flags.since, new Date())
    if (this.flags.org) filter.orgId = await resolveAuditOrgId(core, this.actor(), this.flags.org)
    const file = this.flags.output
    const temporary = file ? openTemporaryFile(file) : null
    const output = temporary ? temporary.stream : process.stdout
    const progress = this.progressReporter()
    let written: number
    try {
      written = await writeAuditExport(core.audit.iterateEvents(filter, this.flags['batch-size']), output, {format: this.flags.format, onProgress: progress.update})
      if (temporary && file) {
        await closeTemporaryFile(temporary)
        publishTemporaryFile(temporary.path, file, true)
      }
    } catch (error) {
      // A reader that went away (`| head`) ends the export; nothing to report.
      if (!temporary && (error as NodeJS.ErrnoException).code === 'EPIPE') return undefined
      // A partial export of private data is not left behind; the destination was never touched.
      if (temporary) await discardTemporaryFile(temporary)
      throw error
    } finally {
      progress.finish()
    }
    if (!file) return undefined
    this.log(`Exported ${written} event(s) to ${file} (${this.flags.format})`)
    return {file, format: this.flags.format, events: written}
  }

  /** A progress line on stderr when it is a terminal and the output is not --json. */
  private progressReporter(): {update: (written: number) => void; finish: () => void} {
    if (!process.stderr.isTTY || this.jsonEnabled()) return {update: () => {}, finish: () => {}}
    const startedAt = Date.now()
    let drawnAt = 0
    let last = 0
    const draw = (written: number) => {
      const seconds = (Date.now() - startedAt) / 1000
      const rate = seconds > 0 ? Math.round(written / seconds) : written
      process.stderr.write(`\r\u001b[2Kexported ${written.toLocaleString('en-US')} events (${rate.toLocaleString('en-US')}/s)`)
    }
    return {
      update(written) {
        last = written
        if (Date.now() - drawnAt < PROGRESS_INTERVAL_MILLISECONDS) return
        drawnAt = Date.now()
        draw(written)
      },
      finish() {
        draw(last)
        process.stderr.write('\n')
      },
    }
  }
}

/** The private temporary file beside `file` (src/backup/private-file.ts), written through a stream on its descriptor. */
interface TemporaryFile {
  path: string
  descriptor: number
  stream: WriteStream
}

function openTemporaryFile(file: string): TemporaryFile {
  const {temporary, descriptor} = openPrivateTemporaryFile(file)
  return {path: temporary, descriptor, stream: createWriteStream(temporary, {fd: descriptor, autoClose: false})}
}

/** Ends the stream, then flushes the file to disk and closes it. */
async function closeTemporaryFile(temporary: TemporaryFile): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    temporary.stream.once('error', reject)
    temporary.stream.end(() => resolve())
  })
  fsyncSync(temporary.descriptor)
  closeSync(temporary.descriptor)
  temporary.descriptor = -1
}

/**
 * After a failure: the stream stopped, its descriptor closed exactly once, the file removed.
 * Destroying the stream closes the descriptor itself (autoClose notwithstanding), so closing it
 * here as well would close it twice — the second time perhaps another file that got the number.
 * Once closeTemporaryFile closed it, the finished stream is left alone.
 */
async function discardTemporaryFile(temporary: TemporaryFile): Promise<void> {
  if (temporary.descriptor >= 0 && !temporary.stream.closed) {
    await new Promise<void>((resolve) => {
      temporary.stream.once('close', () => resolve())
      temporary.stream.destroy()
    })
  }
  temporary.descriptor = -1
  unlinkSafely(temporary.path)
}
