import {describe, expect, it} from 'vitest'
import {followEvents} from '../../../src/audit/audit-event-follower.js'
import type {AuditEvent} from '../../../src/audit/audit-log.js'

const eventAt = (seq: number): AuditEvent => ({seq, id: `e${seq}`, action: 'org.updated', orgId: 'o', actor: {type: 'cli', id: 'x', name: 'x'}, target: null, metadata: {}, ip: null, userAgent: null, requestId: null, createdAt: '2026-01-01T00:00:00.000Z'})

describe('followEvents', () => {
  it('reads from the position, each event once and in order, catching up in full batches without waiting, until aborted', async () => {
    const log = Array.from({length: 7}, (_, index) => eventAt(index + 1))
    const reads: number[] = []
    const stop = new AbortController()
    const read = async (afterSeq: number, limit: number) => {
      reads.push(afterSeq)
      // Appended meanwhile: another process's events, seen on the next poll.
      if (reads.length === 4) log.push(eventAt(8), eventAt(9))
      return log.filter((event) => event.seq > afterSeq).slice(0, limit)
    }
    const seen: number[] = []
    for await (const batch of followEvents({read, afterSeq: 2, pollMilliseconds: 1, batchSize: 2, signal: stop.signal})) {
      seen.push(...batch.map((event) => event.seq))
      if (seen.at(-1) === 9) stop.abort()
    }
    expect(seen).toEqual([3, 4, 5, 6, 7, 8, 9])
    // Full batches are followed at once; a short one waits a poll.
    expect(reads.slice(0, 4)).toEqual([2, 4, 6, 7])
  })

  it('lets a refusal thrown by read end the follow', async () => {
    const read = async () => {
      throw Object.assign(new Error('denied'), {code: 'permission.denied'})
    }
    const following = (async () => {
      for await (const _batch of followEvents({read, afterSeq: 0, pollMilliseconds: 1, signal: new AbortController().signal})) {
        // never
      }
    })()
    await expect(following).rejects.toMatchObject({code: 'permission.denied'})
  })
})
