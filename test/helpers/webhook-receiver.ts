import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import {Webhook} from 'standardwebhooks'
import {waitUntil} from './daemon-process.js'

export interface ReceivedMessage {
  /** webhook-id */
  id: string
  timestamp: string
  signature: string
  contentType: string | undefined
  /** The Host header. */
  host: string | undefined
  body: string
  payload: {type: string; timestamp: string; data: Record<string, any>}
  receivedAt: number
}

export interface WebhookReceiver {
  url: string
  port: number
  /** Every message answered 2xx, in arrival order. */
  messages: ReceivedMessage[]
  /** Every request that reached the receiver, whatever it was answered. */
  requests: ReceivedMessage[]
  /** How many times each webhook-id was accepted (2xx). */
  countByMessageId(): Map<string, number>
  /** Answer with this status from now on (default 204). */
  answerWith(status: number): void
  /** Hold every request open (never answer) until release(); `held` counts them. */
  hold(): void
  release(): void
  held(): number
  /** Stop listening (connection refused) / listen again on the same port. */
  down(): Promise<void>
  up(): Promise<void>
  waitForMessages(count: number, limitMs?: number): Promise<void>
  stop(): Promise<void>
}

/**
 * Verifies a message with the official `standardwebhooks` package, as a receiver would. Its
 * timestamp check compares with Date.now(); `now` (the test's fixed clock) stands in for it
 * during the synchronous call, since the daemon signs with the clock it is given. Throws
 * WebhookVerificationError when no signature matches.
 */
export function verifyWithStandardWebhooks(secret: string, message: ReceivedMessage, now?: Date): unknown {
  const headers = {'webhook-id': message.id, 'webhook-timestamp': message.timestamp, 'webhook-signature': message.signature}
  const webhook = new Webhook(secret)
  if (!now) return webhook.verify(message.body, headers)
  const realNow = Date.now
  Date.now = () => now.getTime()
  try {
    return webhook.verify(message.body, headers)
  } finally {
    Date.now = realNow
  }
}

/** A webhook receiver on 127.0.0.1 (a free port) that records what it is sent. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  let status = 204
  let isHolding = false
  const heldResponses: {response: ServerResponse; message: ReceivedMessage}[] = []
  const sockets = new Set<Socket>()
  const messages: ReceivedMessage[] = []
  const requests: ReceivedMessage[] = []

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      let payload: ReceivedMessage['payload']
      try {
        payload = JSON.parse(body) as ReceivedMessage['payload']
      } catch {
        payload = {type: '(not json)', timestamp: '', data: {}}
      }
      const message: ReceivedMessage = {
        id: String(request.headers['webhook-id'] ?? ''),
        timestamp: String(request.headers['webhook-timestamp'] ?? ''),
        signature: String(request.headers['webhook-signature'] ?? ''),
        contentType: request.headers['content-type'],
        host: request.headers.host,
        body,
        payload,
        receivedAt: Date.now(),
      }
      requests.push(message)
      if (isHolding) {
        heldResponses.push({response, message})
        return
      }
      if (status >= 200 && status < 300) messages.push(message)
      response.writeHead(status).end()
    })
  }

  let server: Server = createServer(handle)
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
  const track = () => server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  track()
  await listen(0)
  const port = (server.address() as AddressInfo).port
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy()
      server.close(() => resolve())
    })

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    messages,
    requests,
    countByMessageId() {
      const counts = new Map<string, number>()
      for (const message of messages) counts.set(message.id, (counts.get(message.id) ?? 0) + 1)
      return counts
    },
    answerWith(next) {
      status = next
    },
    hold() {
      isHolding = true
    },
    release() {
      isHolding = false
      for (const {response, message} of heldResponses.splice(0)) {
        if (response.destroyed) continue
        if (status >= 200 && status < 300) messages.push(message)
        response.writeHead(status).end()
      }
    },
    held: () => heldResponses.length,
    async down() {
      await close()
    },
    async up() {
      server = createServer(handle)
      track()
      await listen(port)
    },
    async waitForMessages(count, limitMs = 10_000) {
      await waitUntil(async () => messages.length >= count, limitMs)
    },
    async stop() {
      if (server.listening) await close()
    },
  }
}
