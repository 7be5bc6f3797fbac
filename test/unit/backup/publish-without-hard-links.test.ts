import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'

// A file system without hard links (some network and FUSE mounts): link() fails with EPERM,
// ENOTSUP or EXDEV, and publishing falls back to a look and a rename.
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>()
  const linkSync = () => {
    throw Object.assign(new Error('EPERM: operation not permitted, link'), {code: 'EPERM'})
  }
  return {...actual, default: {...actual, linkSync}, linkSync}
})

const {createPrivateTemporaryFile, publishTemporaryFile} = await import('../../../src/backup/private-file.js')

let directory: string
beforeEach(() => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'saasctl-publish-'))
})
afterEach(() => rmSync(directory, {recursive: true, force: true}))

describe('publishTemporaryFile without hard links', () => {
  it('F6: link() failing with EPERM falls back to rename when nothing is there', () => {
    const file = path.join(directory, 'out.db')
    const temporary = createPrivateTemporaryFile(file)
    writeFileSync(temporary, 'content')
    publishTemporaryFile(temporary, file, false)
    expect(readFileSync(file, 'utf8')).toBe('content')
    expect(existsSync(temporary)).toBe(false)
  })

  it('F6: ... and still refuses an existing file (backup.file_exists), which stays as it was', () => {
    const file = path.join(directory, 'out.db')
    writeFileSync(file, 'old')
    const temporary = createPrivateTemporaryFile(file)
    writeFileSync(temporary, 'new')
    expect(() => publishTemporaryFile(temporary, file, false)).toThrow(expect.objectContaining({code: 'backup.file_exists'}))
    expect(readFileSync(file, 'utf8')).toBe('old')
    expect(existsSync(temporary)).toBe(false)
  })
})
