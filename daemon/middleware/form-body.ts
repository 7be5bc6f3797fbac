import express, {type RequestHandler} from 'express'

export interface FormBodyOptions {
  limitBytes: number
}

/**
 * Parses application/x-www-form-urlencoded bodies (the OAuth endpoints, RFC 6749 §3.2) up to
 * the limit, with express's own parser. Flat: `a[b]=c` stays the key `a[b]`, a repeated
 * parameter becomes an array (which the route's schema refuses, as RFC 6749 asks).
 */
export function formBody({limitBytes}: FormBodyOptions): RequestHandler {
  return express.urlencoded({extended: false, limit: limitBytes, parameterLimit: 100, type: 'application/x-www-form-urlencoded'})
}
