import {Writable} from 'node:stream'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {operatorActor} from '../../src/access/principal.js'
import {AUDIT_CSV_COLUMNS, writeAuditExport} from '../../src/audit/audit-export.js'
import type {AuditEvent} from '../../src/audit/audit-log.js'
import {toJsonShape} from '../../src/shared/json-shape.js'
import {createTestCore, OPERATOR, type TestCore} from '../helpers/test-core.js'
import {describeEachDialect} from '../helpers/test-database.js'

// audit export's core: keyset batches by seq, written with backpressure, one batch in memory.

/** A writable that takes its time (each chunk acknowledged on a later turn), with a small buffer. */
function slowSink(highWaterMark: number) {
  const chunks: string[] = []
  const sink = new Writable({
    highWaterMark,
    decodeStrings: false,
    write(chunk: string, _encoding, callback) {
      chunks.push(chunk)
      setImmediate(callback)
    },
  })
  return {sink, text: () => chunks.join('')}
}

/** Wraps the batches to record what was in memory: the batch sizes, and the sink's buffer each time the next batch was asked for. */
async function* observed(batches: AsyncIterable<AuditEvent[]>, sink: Writable, record: {sizes: number[]; bufferedAtPull: number[]}) {
  for await (const batch of batches) {
    record.sizes.push(batch.length)
    yield batch
    record.bufferedAtPull.push(sink.writableLength)
  }
}

describeEachDialect('audit export', (dialect) => {
  let t: TestCore
  const TOTAL = 2_500
  let orgA = ''
  let orgB = ''

  beforeAll(async () => {
    t = await createTestCore(dialect)
    orgA = (await t.core.orgs.createOrg(OPERATOR, {name: 'Export A', slug: 'export-a'})).org.id
    orgB = (await t.core.orgs.createOrg(OPERATOR, {name: 'Export B', slug: 'export-b'})).org.id
    // Thousands of events in a few transactions (the chain and checkpoint as every append writes them).
    for (let start = 0; start < TOTAL; start += 500) {
      await t.core.database.db.transaction().execute(async (trx) => {
        for (let index = start; index < start + 500; index += 1) {
          if (index === TOTAL / 2) t.clock.advance(3_600_000)
          await t.core.audit.append(trx, OPERATOR, {action: 'flag.updated', orgId: index % 3 === 0 ? orgB : orgA, target: {type: 'flag', id: `flag-${index}`}, metadata: {index, note: 'a "quoted", comma\nand newline'}})
        }
      })
    }
  }, 120_000)
  afterAll(async () => t?.close())

  it('JSON Lines: every event once, in seq order, as in the database, through small batches without running ahead of the output', async () => {
    const {sink, text} = slowSink(64)
    const record = {sizes: [] as number[], bufferedAtPull: [] as number[]}
    const progress: number[] = []
    const written = await writeAuditExport(observed(t.core.audit.iterateEvents({}, 7), sink, record), sink, {format: 'jsonl', onProgress: (count) => progress.push(count)})
    await new Promise<void>((resolve) => sink.end(resolve))

    const rows = await t.core.database.db.selectFrom('audit_event').select(['seq', 'id', 'action', 'metadata']).orderBy('seq').execute()
    expect(written).toBe(rows.length)
    expect(rows.length).toBe(TOTAL + 2)
    const lines = text().trimEnd().split('\n').map((line) => JSON.parse(line))
    expect(lines.map((line) => [line.seq, line.id, line.action, line.metadata])).toEqual(rows.map((row) => [Number(row.seq), row.id, row.action, JSON.parse(row.metadata)]))
    // The exact shape of `audit tail --json`.
    const newest = await t.core.audit.listEvents({}, 1)
    expect(lines.at(-1)).toEqual(JSON.parse(JSON.stringify(toJsonShape(newest[0]))))
    // Never more than one batch held: batches of at most 7, and the next one read only once the output took the last.
    expect(Math.max(...record.sizes)).toBeLessThanOrEqual(7)
    expect(record.sizes.reduce((sum, size) => sum + size, 0)).toBe(rows.length)
    expect(Math.max(...record.bufferedAtPull)).toBeLessThan(64)
    expect(progress.at(-1)).toBe(rows.length)
  })

  it('CSV: the fixed header and RFC 4180 quoting, cells a spreadsheet would run neutralized', async () => {
    const small = await createTestCore(dialect)
    try {
      small.clock.set(new Date('2026-03-01T10:00:00.000Z'))
      const spreadsheetAttacker = operatorActor('=HYPERLINK("http://x")')
      await small.core.flags.createFlag(spreadsheetAttacker, {key: 'plain'})
      await small.core.database.db.transaction().execute((trx) => small.core.audit.append(trx, OPERATOR, {action: 'flag.updated', target: {type: 'flag', id: 'f-1'}, metadata: {note: 'say "hi", then\nleave'}}))
      const [first, second] = await small.core.database.db.selectFrom('audit_event').select(['id', 'target_id']).orderBy('seq').execute()
      const {sink, text} = slowSink(1024)
      await writeAuditExport(small.core.audit.iterateEvents({}), sink, {format: 'csv'})
      expect(text()).toBe(
        [
          AUDIT_CSV_COLUMNS.join(','),
          `1,${first!.id},2026-03-01T10:00:00.000Z,flag.created,,cli,"'=HYPERLINK(""http://x"")","'=HYPERLINK(""http://x"")",flag,${first!.target_id},,,,"{""key"":""plain"",""default"":""off"",""rollout"":null}"`,
          `2,${second!.id},2026-03-01T10:00:00.000Z,flag.updated,,cli,test-operator,test-operator,flag,f-1,,,,"{""note"":""say \\""hi\\"", then\\nleave""}"`,
          '',
        ].join('\n'),
      )
      // No events: the header alone.
      const empty = slowSink(1024)
      await writeAuditExport(small.core.audit.iterateEvents({orgId: 'no-such-org'}), empty.sink, {format: 'csv'})
      expect(empty.text()).toBe(`${AUDIT_CSV_COLUMNS.join(',')}\n`)
    } finally {
      await small.close()
    }
  })

  describe('filters', () => {
    it('one organization, since a time', async () => {
      const collect = async (filter: Parameters<typeof t.core.audit.iterateEvents>[0]) => {
        const seqs: number[] = []
        for await (const batch of t.core.audit.iterateEvents(filter, 100)) seqs.push(...batch.map((event) => event.seq))
        return seqs
      }
      const ofB = await collect({orgId: orgB})
      const expectedB = await t.core.database.db.selectFrom('audit_event').select('seq').where('org_id', '=', orgB).orderBy('seq').execute()
      expect(ofB).toEqual(expectedB.map((row) => Number(row.seq)))
      const since = new Date(t.clock.now().getTime() - 60_000).toISOString()
      const recent = await collect({since})
      expect(recent).toHaveLength(TOTAL / 2)
      expect(recent[0]).toBe(TOTAL / 2 + 3)
    })
  })
})
