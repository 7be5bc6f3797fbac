/**
 * jose, loaded on first use: a CLI command that never signs or verifies a token does not pay
 * for loading it at start.
 */
let jose: Promise<typeof import('jose')> | undefined

export function loadJose(): Promise<typeof import('jose')> {
  jose ??= import('jose')
  return jose
}
