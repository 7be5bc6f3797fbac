import {createHash} from 'node:crypto'
import type {AuditEventRow} from '../db/database.js'

/** The prev_hash of the first event in the chain. */
export const GENESIS_HASH = '0'.repeat(64)

/**
 * The hash of an event: SHA-256 over its content and the previous event's hash, in a fixed
 * field order, so changing any stored field (or removing an event) breaks the chain.
 */
export function computeEventHash(event: Omit<AuditEventRow, 'hash'>): string {
  const content = JSON.stringify([
    event.seq,
    event.id,
    event.action,
    event.org_id,
    event.actor_type,
    event.actor_id,
    event.actor_name,
    event.target_type,
    event.target_id,
    event.metadata,
    event.ip,
    event.user_agent,
    event.request_id,
    event.created_at,
    event.prev_hash,
  ])
  return createHash('sha256').update(content).digest('hex')
}
