import {DomainError} from '../errors/domain-error.js'

/**
 * A driver error that means "the database is busy or away" (exit 69, HTTP 503), or that a
 * concurrent change removed a referenced row (exit 73, HTTP 409), as a DomainError the faces
 * can show; null for anything else, which stays an internal error. Messages
 * name the condition, never connection details.
 */
export function translateDatabaseError(error: unknown): DomainError | null {
  const code = String((error as {code?: unknown} | null)?.code ?? '')
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return new DomainError('db.busy', 'The database is busy (another process holds its write lock); try again')
  if (code === '40P01' || code === '40001' || code === '55P03') return new DomainError('db.busy', 'The database could not serialize this change with a concurrent one; try again')
  // A row this change refers to was deleted by a concurrent change (a role deleted while a key
  // or membership is given it): the change did not happen; the caller may look again and retry.
  if (code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return new DomainError('db.conflict', 'A concurrent change removed something this request refers to; nothing was changed')
  if (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_CORRUPT')) {
    return new DomainError('db.unreachable', `The database cannot be used: ${code}`)
  }
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P03', '08006', '08001'].includes(code)) return new DomainError('db.unreachable', `The database is unreachable: ${code}`)
  return null
}
