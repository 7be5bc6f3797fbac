import {once} from 'node:events'
import {connect} from 'node:net'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {startDaemonProcess, type DaemonProcess} from '../helpers/daemon-process.js'
import {createTestDatabase, describeEachDialect, type TestDatabase} from '../helpers/test-database.js'

// Issue 3: a request in flight when SIGTERM arrives completes, and the process exits 0.
describeEachDialect('graceful shutdown of a real daemon', (dialect) => {
  let database: TestDatabase
  let daemon: DaemonProcess

  beforeAll(async () => {
    database = await createTestDatabase(dialect)
    daemon = await startDaemonProcess(database.url, {args: ['--migrate']})
  })
  afterAll(async () => {
    await daemon?.stop()
    await database?.drop()
  })

  it('answers a request whose body is still arriving when SIGTERM comes', async () => {
    const body = JSON.stringify({email: 'late@example.com', password: 'correct horse battery staple'})
    const {port} = new URL(daemon.url)
    const socket = connect(Number(port), '127.0.0.1')
    await once(socket, 'connect')
    let response = ''
    socket.on('data', (chunk: Buffer) => (response += chunk.toString()))
    // Headers and half the body: the request is in flight.
    socket.write(`POST /v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const exited = once(daemon.process, 'exit')
    daemon.process.kill('SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 200))
    socket.write(body.slice(10))
    // The server closes the connection after answering, since it is shutting down.
    await once(socket, 'close')
    expect(response, daemon.output()).toMatch(/^HTTP\/1\.1 201 /)
    expect(response).toContain('"access_token"')
    const [exitCode] = await exited
    expect(exitCode).toBe(0)
  })
})
