import type {Logger} from './logger.js'
import type {StopHook} from './server.js'

export interface PollingWorkerOptions {
  /** Names the worker in logs and at shutdown ('mail delivery'). */
  name: string
  logger: Logger
  pollMilliseconds: number
  /**
   * One poll: does the work that is due and says whether it found any. `isStopping` turns true
   * at shutdown, so a long batch can end after the item in flight.
   */
  poll(isStopping: () => boolean): Promise<boolean>
}

/**
 * Runs `poll` every `pollMilliseconds`, and again at once while a poll found work (a backlog
 * drains without waiting a tick per batch). A failed poll is logged and retried at the next
 * tick. Stopping schedules nothing more and waits for the poll in flight, so shutdown never cuts
 * a send between the receiver's answer and its bookkeeping.
 */
export function startPollingWorker({name, logger, pollMilliseconds, poll}: PollingWorkerOptions): StopHook {
  let timer: NodeJS.Timeout | null = null
  let running: Promise<void> | null = null
  let isStopped = false

  async function runOnce(): Promise<boolean> {
    try {
      return await poll(() => isStopped)
    } catch (error) {
      logger.warn({err: error}, `${name} poll failed; retrying`)
      return false
    }
  }

  function schedule(delay: number): void {
    if (isStopped) return
    timer = setTimeout(() => {
      running = runOnce().then((foundWork) => {
        running = null
        schedule(foundWork ? 0 : pollMilliseconds)
      })
    }, delay)
  }

  schedule(0)
  return {
    name,
    async stop() {
      isStopped = true
      if (timer) clearTimeout(timer)
      await running
    },
  }
}
