/**
 * The long-lived responses (Server-Sent Events) the daemon has open. A graceful shutdown ends
 * them first: an open stream would otherwise hold its connection busy until the shutdown
 * timeout. A stream opened once shutdown began is ended at once. Also counts open streams per
 * key (an organization, a principal), so a route can cap them: each one polls the database
 * for as long as it stays open.
 */
export interface OpenStreams {
  /** Registers a stream's end function; returns the function that unregisters it. */
  add(end: () => void): () => void
  /**
   * Takes one place under each key, if every key is below its limit: returns the function that
   * gives them back (once), or null — nothing taken — when one is full. In-process: each daemon
   * counts its own streams.
   */
  reserve(places: ReadonlyArray<{key: string; limit: number}>): (() => void) | null
  /** Ends every open stream, and every one added from now on. */
  endAll(): void
  readonly size: number
  /** Places taken under a key. */
  countOf(key: string): number
}

export function createOpenStreams(): OpenStreams {
  const open = new Set<() => void>()
  const counts = new Map<string, number>()
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
    reserve(places) {
      if (places.some(({key, limit}) => (counts.get(key) ?? 0) >= limit)) return null
      for (const {key} of places) counts.set(key, (counts.get(key) ?? 0) + 1)
      let isReleased = false
      return () => {
        if (isReleased) return
        isReleased = true
        for (const {key} of places) {
          const left = (counts.get(key) ?? 1) - 1
          if (left > 0) counts.set(key, left)
          else counts.delete(key)
        }
      }
    },
    endAll() {
      isEnding = true
      for (const end of [...open]) end()
      open.clear()
    },
    get size() {
      return open.size
    },
    countOf(key) {
      return counts.get(key) ?? 0
    },
  }
}
