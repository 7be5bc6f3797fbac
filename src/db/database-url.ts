import path from 'node:path'
import {DomainError} from '../errors/domain-error.js'

export type DialectName = 'sqlite' | 'postgres'

export type DatabaseTarget =
  | {dialect: 'sqlite'; file: string}
  | {dialect: 'postgres'; connectionString: string}

/**
 * Reads a database URL: `postgres://` / `postgresql://` select Postgres; a file path,
 * `:memory:`, or a `sqlite:` URL (`sqlite:./app.db`, `sqlite:///abs/app.db`) select SQLite.
 * Relative SQLite paths resolve against `cwd`. Raises `db.unsupported_url`.
 */
export function parseDatabaseUrl(url: string, cwd: string): DatabaseTarget {
  if (/^postgres(ql)?:\/\//i.test(url)) return {dialect: 'postgres', connectionString: url}
  if (/^sqlite:/i.test(url)) return sqliteTarget(url.replace(/^sqlite:(\/\/(?=\/))?/i, ''), cwd)
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    const scheme = url.slice(0, url.indexOf(':'))
    throw new DomainError('db.unsupported_url', `Unsupported database URL scheme "${scheme}": use postgres://… or a SQLite file path`)
  }
  return sqliteTarget(url, cwd)
}

function sqliteTarget(file: string, cwd: string): DatabaseTarget {
  if (file === '') throw new DomainError('db.unsupported_url', 'The SQLite URL names no file')
  return {dialect: 'sqlite', file: file === ':memory:' ? file : path.resolve(cwd, file)}
}

/** A database URL fit for messages: the password is never shown. */
export function describeDatabaseTarget(target: DatabaseTarget): string {
  if (target.dialect === 'sqlite') return `SQLite ${target.file}`
  try {
    const url = new URL(target.connectionString)
    return `Postgres ${url.hostname}:${url.port || 5432}${url.pathname}`
  } catch {
    return 'Postgres (unparseable URL)'
  }
}
