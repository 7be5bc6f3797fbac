/**
 * What to run to back up or restore a Postgres database: saas-ctl leaves that to pg_dump and
 * pg_restore. The connection URL is printed without its password (a command line lands in shell
 * history and in `ps`); when it had one, the command reads it from PGPASSWORD, left for the
 * operator to set (or ~/.pgpass).
 */
export interface PostgresCommand {
  /** A shell command line, single-quoted where needed; never holds the password. */
  command: string
  /** The environment variable the command expects the password in, or null when the URL had none. */
  passwordEnv: 'PGPASSWORD' | null
}

/** `pg_dump` in custom format (compressed, restorable selectively and in parallel by pg_restore). */
export function pgDumpCommand(connectionString: string, file: string): PostgresCommand {
  const {url, hadPassword} = withoutPassword(connectionString)
  return withPassword(['pg_dump', '--format=custom', '--no-owner', `--file=${quoteForShell(file)}`, `--dbname=${quoteForShell(url)}`], hadPassword)
}

/** `pg_restore` of such a dump over the database: its objects are dropped and made again. */
export function pgRestoreCommand(connectionString: string, file: string): PostgresCommand {
  const {url, hadPassword} = withoutPassword(connectionString)
  return withPassword(['pg_restore', '--clean', '--if-exists', '--no-owner', '--single-transaction', `--dbname=${quoteForShell(url)}`, quoteForShell(file)], hadPassword)
}

function withPassword(words: string[], hadPassword: boolean): PostgresCommand {
  return {command: words.join(' '), passwordEnv: hadPassword ? 'PGPASSWORD' : null}
}

function withoutPassword(connectionString: string): {url: string; hadPassword: boolean} {
  let url: URL
  try {
    url = new URL(connectionString)
  } catch {
    // Not a URL we can take apart: nothing of it is printed.
    return {url: '<your database URL>', hadPassword: false}
  }
  let hadPassword = url.password !== ''
  url.password = ''
  // A password may also travel as a query parameter.
  if (url.searchParams.has('password')) {
    url.searchParams.delete('password')
    hadPassword = true
  }
  return {url: url.toString(), hadPassword}
}

/** Single-quotes a word for a POSIX shell unless it is made only of safe characters. */
export function quoteForShell(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word
  return `'${word.replace(/'/g, `'\\''`)}'`
}
