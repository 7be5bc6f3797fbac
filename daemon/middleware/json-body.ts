import express, {type RequestHandler} from 'express'

export interface JsonBodyOptions {
  limitBytes: number
}

/**
 * Parses JSON bodies up to the limit (the body parser's errors become 400 http.malformed_json,
 * 413 http.payload_too_large and 415 in the error handler). Strict: only objects and arrays.
 */
export function jsonBody({limitBytes}: JsonBodyOptions): RequestHandler {
  return express.json({limit: limitBytes, strict: true, type: 'application/json'})
}
