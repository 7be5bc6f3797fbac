import {EventEmitter} from 'node:events'
import {describe, expect, it, vi} from 'vitest'
import {createOpenStreams} from '../../../daemon/open-streams.js'
import {writeFrame} from '../../../daemon/routes/org-audit-stream.js'

// Review F4: a client that stops reading must not park the stream forever, and open streams are counted per key.

/** A response whose socket buffer is full: write() says so, and drain comes only when told. */
function fullResponse() {
  const emitter = new EventEmitter()
  return Object.assign(emitter, {writableEnded: false, write: vi.fn(() => false)})
}

describe('writeFrame', () => {
  it('gives up on a client that takes nothing for the stall time, and calls onStall', async () => {
    vi.useFakeTimers()
    try {
      const response = fullResponse()
      const onStall = vi.fn()
      let isDone = false
      const writing = writeFrame(response as any, 'id: 1\ndata: {}\n\n', new AbortController().signal, {stallMilliseconds: 30_000, onStall}).then(() => {
        isDone = true
      })
      await vi.advanceTimersByTimeAsync(29_999)
      expect(isDone).toBe(false)
      expect(onStall).not.toHaveBeenCalled()
      await vi.advanceTimersByTimeAsync(1)
      await writing
      expect(onStall).toHaveBeenCalledTimes(1)
      expect(response.listenerCount('drain')).toBe(0)
    } finally {
      vi.useRealTimers()
    }
  })

  it('goes on when the client drains in time, without calling onStall later', async () => {
    vi.useFakeTimers()
    try {
      const response = fullResponse()
      const onStall = vi.fn()
      const writing = writeFrame(response as any, 'frame', new AbortController().signal, {stallMilliseconds: 30_000, onStall})
      await vi.advanceTimersByTimeAsync(10_000)
      response.emit('drain')
      await writing
      await vi.advanceTimersByTimeAsync(60_000)
      expect(onStall).not.toHaveBeenCalled()
      expect(response.listenerCount('drain')).toBe(0)
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('open streams: places per key', () => {
  it('reserves a place under every key or none, and gives them back once', () => {
    const streams = createOpenStreams()
    const places = (principal: string) => [
      {key: 'org:a', limit: 3},
      {key: `principal:${principal}`, limit: 2},
    ]
    const first = streams.reserve(places('u1'))!
    const second = streams.reserve(places('u1'))!
    expect(streams.reserve(places('u1'))).toBeNull()
    // The principal's refusal took nothing from the org.
    expect(streams.countOf('org:a')).toBe(2)
    const third = streams.reserve(places('u2'))!
    expect(streams.reserve(places('u3'))).toBeNull()
    expect(streams.countOf('principal:u3')).toBe(0)
    first()
    first()
    expect(streams.countOf('org:a')).toBe(2)
    expect(streams.countOf('principal:u1')).toBe(1)
    expect(streams.reserve(places('u3'))).not.toBeNull()
    second()
    third()
    expect(streams.countOf('principal:u1')).toBe(0)
  })
})
