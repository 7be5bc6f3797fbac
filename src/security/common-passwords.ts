import {existsSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

/**
 * The list of common and breached passwords that new passwords are checked against: the
 * 100,000 most frequent passwords of the "10 million passwords" corpus, from SecLists
 * (Passwords/Common-Credentials/10-million-password-list-top-100000.txt, MIT licence), shipped
 * with the package as data/common-passwords.txt, one password a line. Nothing is downloaded.
 */
export const COMMON_PASSWORDS_FILE = join('data', 'common-passwords.txt')

// Read on first use only: most CLI calls never check a new password and never pay for it
// (about 800 kB read and a Set of 100,000 strings, some 20 ms once per process).
let cached: ReadonlySet<string> | null = null

/** Whether `foldedPassword` (NFKC, lowercased) is on the list; the list is compared lowercased too. */
export function isCommonPassword(foldedPassword: string): boolean {
  return loadCommonPasswords().has(foldedPassword)
}

/** The list as a set of lowercased NFKC entries, read from the package on the first call. */
export function loadCommonPasswords(): ReadonlySet<string> {
  if (cached) return cached
  const text = readFileSync(locateCommonPasswordsFile(), 'utf8')
  const entries = new Set<string>()
  for (const line of text.split('\n')) {
    const entry = line.replace(/\r$/, '')
    if (entry !== '') entries.add(entry.normalize('NFKC').toLowerCase())
  }
  cached = entries
  return entries
}

/** Whether this process has read the list yet. */
export function isCommonPasswordListLoaded(): boolean {
  return cached !== null
}

/** How many lines (passwords) the shipped file has, as published (before case folding). */
export function countCommonPasswordLines(): number {
  return readFileSync(locateCommonPasswordsFile(), 'utf8').split('\n').filter((line) => line !== '').length
}

/**
 * The file's path: the package root is above this module, one level further when compiled
 * (src/security/ in the sources, dist/src/security/ once built).
 */
export function locateCommonPasswordsFile(): string {
  let directory = dirname(fileURLToPath(import.meta.url))
  for (let level = 0; level < 5; level++) {
    const candidate = join(directory, COMMON_PASSWORDS_FILE)
    if (existsSync(candidate)) return candidate
    directory = dirname(directory)
  }
  throw new Error(`the common-password list ${COMMON_PASSWORDS_FILE} is missing from the package`)
}
