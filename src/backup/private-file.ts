import {randomBytes} from 'node:crypto'
import {closeSync, constants, existsSync, fsyncSync, linkSync, openSync, readSync, renameSync, unlinkSync, writeSync} from 'node:fs'
import path from 'node:path'
import {DomainError} from '../errors/domain-error.js'

/**
 * Creates a new empty file readable by its owner only, beside `file` (so that a rename moves it
 * there): O_EXCL never opens something that exists, O_NOFOLLOW never a symbolic link's target.
 */
export function createPrivateTemporaryFile(file: string): string {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`)
  closeSync(openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600))
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
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw fileExists(file)
      throw error
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
