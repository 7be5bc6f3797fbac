/**
 * Runs at most `limit` tasks at once; the rest wait in order. Password hashing uses it so that
 * argon2 (on libuv's thread pool) never takes every core: the event loop keeps one to answer
 * other requests while logins queue.
 */
export function createConcurrencyLimit(limit: number) {
  let running = 0
  const waiting: (() => void)[] = []

  return async function run<Result>(task: () => Promise<Result>): Promise<Result> {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve))
    running += 1
    try {
      return await task()
    } finally {
      running -= 1
      waiting.shift()?.()
    }
  }
}
