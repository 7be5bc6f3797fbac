export type RevocationSignal = ReturnType<typeof createRevocationSignal>

/**
 * Tells this process that it just wrote revocations, so its own revocation cache catches up
 * before the request that revoked returns, instead of at the next poll. Other processes learn
 * of them from the revocation log.
 */
export function createRevocationSignal() {
  const listeners = new Set<() => Promise<void> | void>()
  return {
    /** Returns an unsubscribe function. */
    subscribe(listener: () => Promise<void> | void): () => void {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    /** Waits for every listener; a failing listener does not fail the caller (the poll retries). */
    async notify(): Promise<void> {
      await Promise.allSettled([...listeners].map(async (listener) => listener()))
    },
  }
}
