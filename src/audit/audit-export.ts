import type {Writable} from 'node:stream'
import {stringify} from 'csv-stringify/sync'
import {toJsonShape} from '../shared/json-shape.js'
import type {AuditEvent} from './audit-log.js'

export const AUDIT_EXPORT_FORMATS = ['jsonl', 'csv'] as const
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number]

/** The CSV header, fixed: one column per field of the event; metadata as its JSON text. */
export const AUDIT_CSV_COLUMNS = ['seq', 'id', 'created_at', 'action', 'org_id', 'actor_type', 'actor_id', 'actor_name', 'target_type', 'target_id', 'ip', 'user_agent', 'request_id', 'metadata'] as const

/**
 * Writes batches of events to `output` as they come, one batch in memory at a time: JSON Lines
 * (each line the event as `audit tail --json` prints it) or CSV (RFC 4180 by csv-stringify,
 * the fixed header even when there are no events; cells a spreadsheet would run as a formula —
 * starting with =, +, -, @, tab or carriage return — get a leading `'`). Waits for `drain`
 * whenever the output's buffer is full, so a slow disk or pipe slows the reading instead of
 * filling memory. Returns how many events were written; calls onProgress after each batch.
 */
export async function writeAuditExport(batches: AsyncIterable<AuditEvent[]>, output: Writable, options: {format: AuditExportFormat; onProgress?: (written: number) => void}): Promise<number> {
  let written = 0
  let isFirst = true
  for await (const batch of batches) {
    await writeWithBackpressure(output, options.format === 'csv' ? csvOf(batch, isFirst) : jsonLinesOf(batch))
    isFirst = false
    written += batch.length
    options.onProgress?.(written)
  }
  if (isFirst && options.format === 'csv') await writeWithBackpressure(output, csvOf([], true))
  return written
}

function jsonLinesOf(batch: AuditEvent[]): string {
  let text = ''
  for (const event of batch) text += `${JSON.stringify(toJsonShape(event))}\n`
  return text
}

function csvOf(batch: AuditEvent[], withHeader: boolean): string {
  const rows = batch.map((event) => [
    event.seq,
    event.id,
    event.createdAt,
    event.action,
    event.orgId,
    event.actor.type,
    event.actor.id,
    event.actor.name,
    event.target?.type ?? null,
    event.target?.id ?? null,
    event.ip,
    event.userAgent,
    event.requestId,
    JSON.stringify(event.metadata),
  ])
  return stringify(rows, {header: withHeader, columns: [...AUDIT_CSV_COLUMNS], escape_formulas: true})
}

/** Resolves once `output` took the chunk and, if its buffer is full, drained; rejects on its error. */
function writeWithBackpressure(output: Writable, chunk: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      output.off('drain', onDrain)
      reject(error)
    }
    const onDrain = () => {
      output.off('error', onError)
      resolve()
    }
    output.once('error', onError)
    if (output.write(chunk)) {
      output.off('error', onError)
      resolve()
    } else {
      output.once('drain', onDrain)
    }
  })
}
