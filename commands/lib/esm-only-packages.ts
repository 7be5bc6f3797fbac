/**
 * Packages published only as ES modules that the CLI bundle, CommonJS for its code cache
 * (scripts/build-cli.mjs), cannot `require()`: Ink awaits at its top level, and Node 20 before
 * 20.19 requires no ES module at all. A command that uses them imports them here first; the bundle
 * then reads each package's exports from preloadedPackage instead of requiring it. Outside the
 * bundle (vitest, tsc's output) the modules import the packages directly and this is not used.
 */
const ESM_ONLY_PACKAGES = {
  ink: () => import('ink'),
  'string-width': () => import('string-width'),
} as const

export type EsmOnlyPackage = keyof typeof ESM_ONLY_PACKAGES
export const ESM_ONLY_PACKAGE_NAMES = Object.keys(ESM_ONLY_PACKAGES) as EsmOnlyPackage[]

const loaded = new Map<EsmOnlyPackage, Record<string, unknown>>()

/** Imports every ES-module-only package, before the modules that use them load (the TUI's). */
export async function preloadEsmOnlyPackages(): Promise<void> {
  for (const name of ESM_ONLY_PACKAGE_NAMES) loaded.set(name, (await ESM_ONLY_PACKAGES[name]()) as Record<string, unknown>)
}

/** A preloaded package's exports, for the bundle's stand-in module of that package. */
export function preloadedPackage(name: EsmOnlyPackage): Record<string, unknown> {
  const exports = loaded.get(name)
  if (!exports) throw new Error(`${name} is used before preloadEsmOnlyPackages() imported it`)
  return exports
}
