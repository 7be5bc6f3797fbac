import {createServer, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import type {Config} from '../src/config/settings.js'
import type {Core} from '../src/core.js'
import {DomainError} from '../src/errors/domain-error.js'
import {createApp, type DaemonApp} from './create-app.js'
import {describeErrorForLog} from './http-errors.js'
import type {Logger} from './logger.js'
import type {Metrics} from './metrics.js'
import type {AnyRoute} from './openapi/route.js'

/** Something running in the background (a cron job, the revocation follower), stopped at shutdown. */
export interface StopHook {
  name?: string
  stop(): Promise<void> | void
}

export interface StartServerOptions {
  /** Owned from here on: closed at shutdown, or if listening fails. */
  core: Core
  config: Config
  logger: Logger
  /** Default: createApp({core, config, logger, routes, version}). */
  app?: DaemonApp
  routes?: AnyRoute[]
  version?: string
  /** Check every JSON response against its declared schema (tests); ignored when app is given. */
  checkResponses?: boolean
  /** Stopped, in order, after in-flight requests finished and before the database closes. */
  backgroundTasks?: StopHook[]
  /** The longest a graceful shutdown waits for in-flight requests, and then for each hook. Default 10 s. */
  shutdownTimeoutMs?: number
  /** Shut down on SIGTERM and SIGINT (a second signal exits at once). The serve command sets it (through startDaemon); tests call close(). */
  handleSignals?: boolean
}

export interface RunningServer {
  /** http://host:port, the port as bound (useful with port 0). */
  url: string
  port: number
  server: Server
  app: DaemonApp
  metrics: Metrics
  /** Adds a background task to stop at shutdown (after those given at start). */
  addShutdownHook(hook: StopHook): void
  /** Graceful shutdown: stop accepting, finish in-flight requests, stop hooks, close the database. Idempotent. */
  close(): Promise<void>
  /** Settles when shutdown has finished, whoever started it. */
  closed: Promise<void>
}

const IDLE_SWEEP_MS = 100

/** Listens on the configured host and port and serves the daemon until close() or a signal. */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const {core, config, logger} = options
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000
  const hooks: StopHook[] = [...(options.backgroundTasks ?? [])]
  let daemonApp: DaemonApp
  let server: Server
  try {
    daemonApp = options.app ?? createApp({core, config, logger, routes: options.routes, version: options.version, checkResponses: options.checkResponses})
    server = createServer(daemonApp.app)
    server.on('clientError', answerClientError)
    await listen(server, config.host, config.port)
  } catch (error) {
    await core.close()
    throw error
  }
  const responses = trackResponses(server)
  const {port} = server.address() as AddressInfo
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`

  let shutdown: Promise<void> | null = null
  let resolveClosed!: () => void
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve
  })

  async function runShutdown(reason: string): Promise<void> {
    logger.info({reason}, 'shutting down')
    // Open event streams end now: they would keep their connections busy until the timeout.
    daemonApp.openStreams.endAll()
    const isDrained = await drain(server, responses, shutdownTimeoutMs)
    if (!isDrained) logger.warn({timeout_ms: shutdownTimeoutMs}, 'in-flight requests did not finish in time; connections closed')
    for (const hook of hooks) {
      try {
        const isStopped = await withinTime(Promise.resolve(hook.stop()), shutdownTimeoutMs)
        if (!isStopped) logger.warn({task: hook.name ?? 'unnamed', timeout_ms: shutdownTimeoutMs}, 'background task did not stop in time')
      } catch (error) {
        logger.error({task: hook.name ?? 'unnamed', err: describeErrorForLog(error)}, 'background task failed to stop')
      }
    }
    try {
      await core.close()
    } catch (error) {
      logger.error({err: describeErrorForLog(error)}, 'closing the database failed')
    }
    logger.info('stopped')
  }

  function close(reason = 'close'): Promise<void> {
    shutdown ??= runShutdown(reason).finally(() => {
      removeSignalHandlers()
      resolveClosed()
    })
    return shutdown
  }

  let signalCount = 0
  const onSignal = (signal: NodeJS.Signals) => {
    signalCount += 1
    if (signalCount > 1) {
      logger.warn({signal}, 'second signal: exiting without waiting')
      process.exit(1)
    }
    void close(signal)
  }
  const removeSignalHandlers = () => {
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
  }
  if (options.handleSignals) {
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
  }

  return {
    url,
    port,
    server,
    app: daemonApp,
    metrics: daemonApp.metrics,
    addShutdownHook: (hook) => {
      hooks.push(hook)
    },
    close: () => close(),
    closed,
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(new DomainError('daemon.listen_failed', `Cannot listen on ${host}:${port}: ${error.code ?? error.message}`))
    }
    server.once('error', onError)
    server.listen({host, port}, () => {
      server.off('error', onError)
      resolve()
    })
  })
}

/**
 * Stops accepting connections and waits for in-flight requests. Idle keep-alive connections
 * are closed at once and again every sweep (a connection turns idle when its last request
 * ends); after the timeout every connection is closed. Returns whether it drained in time.
 */
async function drain(server: Server, responses: ResponseTracker, timeoutMs: number): Promise<boolean> {
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeIdleConnections()
  const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS)
  try {
    const isDrained = await withinTime(stopped, timeoutMs)
    if (!isDrained) {
      server.closeAllConnections()
      await stopped
      // The server reports closed before the cut responses emit close (their access log lines).
      await withinTime(responses.allClosed(), 1000)
    }
    return isDrained
  } finally {
    clearInterval(sweep)
  }
}

interface ResponseTracker {
  allClosed(): Promise<void>
}

function trackResponses(server: Server): ResponseTracker {
  const open = new Set<ServerResponse>()
  let notifyEmpty: (() => void) | null = null
  server.on('request', (_request, response: ServerResponse) => {
    open.add(response)
    response.once('close', () => {
      open.delete(response)
      if (open.size === 0) notifyEmpty?.()
    })
  })
  return {
    allClosed: () =>
      open.size === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            notifyEmpty = resolve
          }),
  }
}

/** Whether the promise settled within the time (its rejection is thrown). */
async function withinTime(promise: Promise<unknown>, milliseconds: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), milliseconds)
    timer.unref()
  })
  try {
    return await Promise.race([promise.then(() => true as const), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Requests node's HTTP parser refuses before express sees them (a URL or headers over 16 KiB,
 * garbage on the wire) still get the JSON error shape, then the connection closes.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: import('node:stream').Duplex): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const isTooLarge = error.code === 'HPE_HEADER_OVERFLOW'
  const [status, reason, code, message] = isTooLarge
    ? [431, 'Request Header Fields Too Large', 'http.headers_too_large', 'The request line or headers are too large']
    : [400, 'Bad Request', 'http.bad_request', 'The request could not be parsed']
  const body = JSON.stringify({error: {code, message, details: null}, request_id: null})
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
}
