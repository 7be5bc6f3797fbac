/**
 * The long-lived responses (Server-Sent Events) the daemon has open. A graceful shutdown ends
 * them first: an open stream would otherwise hold its connection busy until the shutdown
 * timeout. A stream opened once shutdown began is ended at once.
 */
export interface OpenStreams {
  /** Registers a stream's end function; returns the function that unregisters it. */
  add(end: () => void): () => void
  /** Ends every open stream, and every one added from now on. */
  endAll(): void
  readonly size: number
}

export function createOpenStreams(): OpenStreams {
  const open = new Set<() => void>()
  let isEnding = false
  return {
    add(end) {
      if (isEnding) {
        end()
        return () => {}
      }
      open.add(end)
      return () => open.delete(end)
    },
    endAll() {
      isEnding = true
      for (const end of [...open]) end()
      open.clear()
    },
    get size() {
      return open.size
    },
  }
}
