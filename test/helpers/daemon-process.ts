import {spawn, type ChildProcess} from 'node:child_process'
import {once} from 'node:events'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {findFreePort} from '../../daemon/find-free-port.js'
import {BIN} from './run-cli.js'
import {secretKeyEnvFor} from './test-database.js'

export interface DaemonProcess {
  url: string
  process: ChildProcess
  /** Everything the daemon wrote on stderr and stdout so far (for failure messages). */
  output(): string
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>
}

/** As testConfig: suites send many requests from one address, so no request budget unless a test sets one. */
export const UNLIMITED_REQUEST_RATES_ENV = {
  SAASCTL_TIER_RPM: 'free=unlimited,basic=unlimited,premium=unlimited,enterprise=unlimited',
  SAASCTL_RATE_LIMIT_AUTH_RPM: '0',
  SAASCTL_RATE_LIMIT_PUBLIC_RPM: '0',
}

/** Runs `saas-ctl serve` as a real process on the database and waits until /health answers. */
export async function startDaemonProcess(databaseUrl: string, options: {env?: Record<string, string>; args?: string[]} = {}): Promise<DaemonProcess> {
  const port = await findFreePort('127.0.0.1')
  const url = `http://127.0.0.1:${port}`
  const cwd = mkdtempSync(path.join(tmpdir(), 'saasctl-daemon-'))
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), ...(options.args ?? [])], {
    cwd,
    env: {...process.env, ...secretKeyEnvFor(databaseUrl), SAASCTL_DATABASE_URL: databaseUrl, SAASCTL_ISSUER: 'http://saas-ctl.test', SAASCTL_LOG_LEVEL: 'warn', ...UNLIMITED_REQUEST_RATES_ENV, ...options.env},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const daemon: DaemonProcess = {
    url,
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return child.exitCode
      child.kill('SIGTERM')
      const [code] = await once(child, 'exit')
      return code as number | null
    },
  }
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`saas-ctl serve exited with ${child.exitCode}: ${output}`)
    try {
      if ((await fetch(`${url}/health`)).ok) return daemon
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await daemon.stop()
  throw new Error(`saas-ctl serve did not answer /health within 20 s: ${output}`)
}

/** Polls until `check` is true; returns the milliseconds it took, or throws after the limit. */
export async function waitUntil(check: () => Promise<boolean>, limitMilliseconds: number): Promise<number> {
  const startedAt = Date.now()
  for (;;) {
    if (await check()) return Date.now() - startedAt
    if (Date.now() - startedAt > limitMilliseconds) throw new Error(`condition not met within ${limitMilliseconds} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
