import type {Request} from 'express'
import {DomainError} from '../src/errors/domain-error.js'

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i

/** The token of an `Authorization: Bearer <token>` header; raises auth.invalid_token (reason missing or malformed). */
export function readBearerToken(request: Request): string {
  const header = request.get('Authorization')
  if (header === undefined || header.trim() === '') throw new DomainError('auth.invalid_token', 'An access token is required (Authorization: Bearer <token>)', {reason: 'missing'})
  const match = BEARER.exec(header)
  if (!match) throw new DomainError('auth.invalid_token', 'The Authorization header must be "Bearer <token>"', {reason: 'malformed'})
  return match[1]!
}
