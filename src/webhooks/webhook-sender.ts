import type {ClientRequest, IncomingMessage, request as httpRequest} from 'node:http'
import type {LookupFunction} from 'node:net'
import {isDomainError} from '../errors/domain-error.js'
import {checkWebhookTarget, type HostResolver} from './ssrf-guard.js'

export interface WebhookRequest {
  url: string
  headers: Record<string, string>
  body: string
}

/** What one attempt got: a status code (any), or an error before there was one. */
export type SendResult = {statusCode: number; error: null} | {statusCode: null; error: string}

export interface WebhookSenderOptions {
  timeoutMs: number
  allowPrivate: boolean
  resolve: HostResolver
}

export type WebhookSender = (request: WebhookRequest) => Promise<SendResult>

/**
 * POSTs a message. The host is resolved and checked by the SSRF guard on every attempt, and the
 * connection goes to the checked address (a lookup pinned to it), so a name that resolves to a
 * private address later — DNS rebinding — is refused or never reached. Redirects are not
 * followed: a 3xx is the answer (a failed attempt), so a redirect cannot lead past the guard.
 * The whole attempt, answer included, is bounded by timeoutMs. Never throws.
 */
export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  return ({url, headers, body}) =>
    new Promise<SendResult>((resolve) => {
      let settled = false
      let outgoing: ClientRequest | null = null
      const finish = (result: SendResult) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(result)
      }
      // One deadline for the whole attempt: resolving the name, connecting, the answer.
      const timer = setTimeout(() => {
        finish({statusCode: null, error: `no answer within ${options.timeoutMs} ms`})
        outgoing?.destroy()
      }, options.timeoutMs)
      const target = new URL(url)
      Promise.all([checkWebhookTarget(target, {allowPrivate: options.allowPrivate, resolve: options.resolve}), requestFunctionFor(target.protocol)]).then(
        ([pinned, send]) => {
          if (settled) return
          const lookup: LookupFunction = (_hostname, lookupOptions, callback) => {
            if ((lookupOptions as {all?: boolean}).all) (callback as (error: null, addresses: {address: string; family: number}[]) => void)(null, [pinned])
            else callback(null, pinned.address, pinned.family)
          }
          outgoing = send(
            target,
            {method: 'POST', headers: {...headers, 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'saas-ctl-webhooks'}, lookup, agent: false},
            (response: IncomingMessage) => {
              // The body is read and dropped (bounded by the deadline): only the status is kept.
              response.on('data', () => {})
              response.on('end', () => finish({statusCode: response.statusCode ?? 0, error: null}))
              response.on('error', () => finish({statusCode: response.statusCode ?? 0, error: null}))
            },
          )
          outgoing.on('error', (error: NodeJS.ErrnoException) => finish({statusCode: null, error: describeNetworkError(error)}))
          outgoing.end(body)
        },
        (error: unknown) => finish({statusCode: null, error: isDomainError(error) ? `refused: ${error.message}` : 'refused: the address could not be checked'}),
      )
    })
}

/**
 * node:https's or node:http's request, loaded by the first delivery: the CLI's commands open the
 * core, which holds this sender, and most never send (http, https and tls are ~40 of Node's
 * modules to load on each start).
 */
function requestFunctionFor(protocol: string): Promise<typeof httpRequest> {
  return protocol === 'https:' ? import('node:https').then((module) => module.request) : import('node:http').then((module) => module.request)
}

// The code and a short reason; never headers or the body (they carry the signature).
function describeNetworkError(error: NodeJS.ErrnoException): string {
  return `${error.code ?? 'network error'}: ${error.message}`.slice(0, 300)
}
