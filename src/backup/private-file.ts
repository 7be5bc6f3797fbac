import {randomBytes} from 'node:crypto'
import {closeSync, constants, existsSync, fsyncSync, linkSync, lstatSync, openSync, readSync, realpathSync, renameSync, statSync, unlinkSync, writeSync} from 'node:fs'
import path from 'node:path'
import {DomainError} from '../errors/domain-error.js'

/**
 * Creates a new empty file readable by its owner only, beside `file` (so that a rename moves it
 * there): O_EXCL never opens something that exists, O_NOFOLLOW never a symbolic link's target.
 */
export function createPrivateTemporaryFile(file: string): string {
  const {temporary, descriptor} = openPrivateTemporaryFile(file)
  closeSync(descriptor)
  return temporary
}

/** As createPrivateTemporaryFile, open for writing: write through `descriptor`, never by the path again. */
export function openPrivateTemporaryFile(file: string): {temporary: string; descriptor: number} {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`)
  return {temporary, descriptor: openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600)}
}

/** Writes `content` to a new private temporary file beside `file` through the descriptor it opened, flushed; returns its path. */
export function writePrivateTemporaryFile(file: string, content: string): string {
  const {temporary, descriptor} = openPrivateTemporaryFile(file)
  try {
    const bytes = Buffer.from(content)
    for (let written = 0; written < bytes.length; ) written += writeSync(descriptor, bytes, written, bytes.length - written)
    fsyncSync(descriptor)
  } catch (error) {
    closeSync(descriptor)
    unlinkSafely(temporary)
    throw error
  }
  closeSync(descriptor)
  return temporary
}

/** Flushes a file's content to disk. */
export function syncFile(file: string): void {
  const descriptor = openSync(file, 'r+')
  try {
    fsyncSync(descriptor)
  } finally {
    closeSync(descriptor)
  }
}

/** Flushes a directory, so that a rename or link in it survives a crash. */
export function syncDirectory(directory: string): void {
  try {
    const descriptor = openSync(directory, 'r')
    try {
      fsyncSync(descriptor)
    } finally {
      closeSync(descriptor)
    }
  } catch {
    // not supported on this platform or file system: the rename still happened
  }
}

/**
 * Moves a finished temporary file to `file`. Without `overwrite`, link() puts it there only if
 * nothing is there (atomically: a file created meanwhile is never replaced) and raises
 * `backup.file_exists`; with it, rename() replaces what is there (a symbolic link is replaced,
 * never followed).
 */
export function publishTemporaryFile(temporary: string, file: string, overwrite: boolean): void {
  if (overwrite) {
    renameSync(temporary, file)
  } else {
    try {
      linkSync(temporary, file)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EEXIST') throw fileExists(file)
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw error
      // A file system without hard links: look, then rename (not atomic against a file made in between).
      if (isPresent(file)) throw fileExists(file)
      renameSync(temporary, file)
    } finally {
      unlinkSafely(temporary)
    }
  }
  syncDirectory(path.dirname(file))
}

/** Copies `source` to a new private temporary file beside `destination`, flushed; returns its path. */
export function copyToPrivateTemporaryFile(source: string, destination: string): string {
  const temporary = createPrivateTemporaryFile(destination)
  try {
    copyContent(source, temporary)
    return temporary
  } catch (error) {
    unlinkSafely(temporary)
    throw error
  }
}

const COPY_CHUNK_BYTES = 1 << 20

/**
 * Copies bytes by hand rather than with copyFile, which gives the destination the source's mode
 * (a backup someone made readable would make the new database readable too); flushes the copy.
 */
function copyContent(source: string, destination: string): void {
  const input = openSync(source, 'r')
  try {
    const output = openSync(destination, 'w')
    try {
      const buffer = Buffer.allocUnsafe(COPY_CHUNK_BYTES)
      for (;;) {
        const read = readSync(input, buffer, 0, buffer.length, null)
        if (read === 0) break
        for (let written = 0; written < read; ) written += writeSync(output, buffer, written, read - written)
      }
      fsyncSync(output)
    } finally {
      closeSync(output)
    }
  } finally {
    closeSync(input)
  }
}

/** Raises `backup.directory_missing` unless the directory `file` would be written in exists. */
export function requireDirectoryOf(file: string): void {
  const directory = path.dirname(path.resolve(file))
  if (!existsSync(directory)) throw new DomainError('backup.directory_missing', `The directory ${directory} does not exist`)
}

export function fileExists(file: string): DomainError {
  return new DomainError('backup.file_exists', `${file} exists already; choose another name or pass --force to replace it`)
}

export function unlinkSafely(file: string): void {
  try {
    unlinkSync(file)
  } catch {
    // already gone
  }
}

/** The live database's own files: what a backup or a restore must never write over or read as a backup. */
const DATABASE_COMPANIONS = ['', '-wal', '-shm', '-journal', '.secret-key']

/**
 * Which of the database's files (`''` the database itself, or `-wal`, `-shm`, `-journal`,
 * `.secret-key`) `file` is, whatever the spelling: the real directory and the name are compared,
 * and the device and inode when both exist (a hard link). Null when it is none of them.
 */
export function databaseFileRole(file: string, databaseFile: string): string | null {
  const canonicalFile = canonicalPath(file)
  for (const suffix of DATABASE_COMPANIONS) {
    const companion = `${databaseFile}${suffix}`
    if (canonicalFile === canonicalPath(companion) || sameInode(file, companion)) return suffix
  }
  return null
}

function canonicalPath(file: string): string {
  const absolute = path.resolve(file)
  try {
    return path.join(realpathSync(path.dirname(absolute)), path.basename(absolute))
  } catch {
    return absolute
  }
}

function sameInode(file: string, other: string): boolean {
  try {
    const a = lstatSync(file)
    const b = statSync(other)
    return a.dev === b.dev && a.ino === b.ino
  } catch {
    return false
  }
}

/** How a role from databaseFileRole reads in a message. */
export function describeDatabaseFileRole(role: string, databaseFile: string): string {
  return role === '' ? `the database ${databaseFile} itself` : `the database's ${databaseFile}${role}`
}

/** Whether anything (a file, a directory, a dangling symlink) is at the path. */
export function isPresent(file: string): boolean {
  try {
    lstatSync(file)
    return true
  } catch {
    return false
  }
}

/** Errors of the file system (and SQLite's for the same) that are the disk's or the operator's, not a bug. */
const IO_ERROR_CODES = new Set(['EACCES', 'EPERM', 'ENOSPC', 'EDQUOT', 'EISDIR', 'ENOTDIR', 'ENOTSUP', 'EXDEV', 'EROFS', 'EMFILE', 'ENFILE', 'EIO'])
const SQLITE_IO_ERROR_PREFIXES = ['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_PERM']

/**
 * A file-system error as `backup.io_error` / `restore.io_error`, naming the path (the error's own,
 * else `fallbackPath`) and the error code; anything else is returned as it is.
 */
export function asIoError(error: unknown, code: 'backup.io_error' | 'restore.io_error', fallbackPath: string): unknown {
  if (error instanceof DomainError) return error
  const failure = error as NodeJS.ErrnoException
  const errorCode = typeof failure?.code === 'string' ? failure.code : ''
  if (!IO_ERROR_CODES.has(errorCode) && !SQLITE_IO_ERROR_PREFIXES.some((prefix) => errorCode.startsWith(prefix))) return error
  const failed = failure as NodeJS.ErrnoException & {dest?: unknown}
  const file = typeof failed.dest === 'string' ? failed.dest : typeof failure.path === 'string' ? failure.path : fallbackPath
  const what = code === 'backup.io_error' ? 'The backup failed' : 'The restore failed'
  return new DomainError(code, `${what} on ${file}: ${errorCode} (${failure.message})`, {path: file, errno: errorCode})
}
