import {describe, expect, it} from 'vitest'
import {pgDumpCommand, pgRestoreCommand, quoteForShell} from '../../../src/backup/postgres-commands.js'

describe('pg_dump / pg_restore command lines', () => {
  it('leave the password out of the URL, wherever it was, and say it is expected in PGPASSWORD', () => {
    const dump = pgDumpCommand('postgres://app:p%40ss@db:5432/saas?password=other&sslmode=require', 'out.dump')
    expect(dump).toEqual({command: `pg_dump --format=custom --no-owner --file=out.dump --dbname='postgres://app@db:5432/saas?sslmode=require'`, passwordEnv: 'PGPASSWORD'})
    expect(pgRestoreCommand('postgresql://app@db/saas', 'out.dump')).toEqual({
      command: 'pg_restore --clean --if-exists --no-owner --single-transaction --dbname=postgresql://app@db/saas out.dump',
      passwordEnv: null,
    })
  })

  it('print nothing of a URL they cannot take apart', () => {
    expect(pgDumpCommand('postgres://app:pw@[bad', 'x.dump').command).not.toContain('pw')
  })

  it('quote words for a POSIX shell', () => {
    expect(quoteForShell('/var/backups/saas-2026.dump')).toBe('/var/backups/saas-2026.dump')
    expect(quoteForShell('my dump.dump')).toBe(`'my dump.dump'`)
    expect(quoteForShell(`it's $(rm -rf ~).dump`)).toBe(`'it'\\''s $(rm -rf ~).dump'`)
  })
})
