import {closeSync, createWriteStream, fchmodSync, openSync, unlinkSync, type WriteStream} from 'node:fs'
import {Flags} from '@oclif/core'
import {AUDIT_EXPORT_FORMATS, writeAuditExport} from '../../src/audit/audit-export.js'
import type {AuditFilter} from '../../src/audit/audit-log.js'
import {parseSince} from '../../src/audit/parse-since.js'
import {BaseCommand} from '../lib/base-command.js'
import {resolveAuditOrgId} from './resolve-org.js'

/** How often the progress line is redrawn. */
const PROGRESS_INTERVAL_MILLISECONDS = 250

export default class AuditExport extends BaseCommand<typeof AuditExport> {
  static override summary = 'Write audit events, oldest first, as JSON Lines or CSV, to a file or stdout'
  static override description = [
    'Streams in constant memory: events are read a batch at a time by position (seq) and written as the output takes them, so millions of rows need no more memory than one batch.',
    'JSON Lines: one event per line, as `audit tail --json` prints it. CSV: a fixed header (seq, id, created_at, action, org_id, actor_type, actor_id, actor_name, target_type, target_id, ip, user_agent, request_id, metadata), metadata as JSON text, cells that a spreadsheet would run as a formula prefixed with \'.',
    'A file given with -o is created with mode 0600 (events carry IP addresses and emails). On a terminal a progress line goes to stderr (not with --json).',
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
    const output = file ? openPrivateFile(file) : process.stdout
    const progress = this.progressReporter()
    let written: number
    try {
      written = await writeAuditExport(core.audit.iterateEvents(filter, this.flags['batch-size']), output, {format: this.flags.format, onProgress: progress.update})
      if (file) await closeStream(output as WriteStream)
    } catch (error) {
      // A reader that went away (`| head`) ends the export; nothing to report.
      if (!file && (error as NodeJS.ErrnoException).code === 'EPIPE') return undefined
      if (file) {
        ;(output as WriteStream).destroy()
        // A partial export of private data is not left behind.
        unlinkSafely(file)
      }
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

/** Opens (truncating) a file readable by its owner only, also when it existed with a looser mode. */
function openPrivateFile(file: string): WriteStream {
  const descriptor = openSync(file, 'w', 0o600)
  try {
    fchmodSync(descriptor, 0o600)
  } catch (error) {
    closeSync(descriptor)
    throw error
  }
  return createWriteStream(file, {fd: descriptor})
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject)
    stream.end(() => resolve())
  })
}

function unlinkSafely(file: string): void {
  try {
    unlinkSync(file)
  } catch {
    // already gone
  }
}
