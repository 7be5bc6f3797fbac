import {z} from 'zod'

/**
 * Every setting saas-ctl knows. Each one is read, in rising precedence, from its default,
 * the config file (its snake_case key), the environment (SAASCTL_<KEY>) and a command flag.
 * Adding a setting means adding one entry here.
 */
export interface SettingDefinition {
  /** snake_case: the config file key; SAASCTL_<UPPER> is its environment variable. */
  readonly key: string
  readonly description: string
  readonly schema: z.ZodType
  readonly defaultValue: unknown
  /** How to show the value in `saas-ctl config`: secrets never appear in full. */
  readonly redact?: (value: unknown) => unknown
}

export const SETTINGS = {
  databaseUrl: {
    key: 'database_url',
    description: 'postgres://… selects Postgres; a file path or sqlite: URL selects SQLite',
    schema: z.string().trim().min(1, 'must not be empty'),
    defaultValue: './saas-ctl.db',
    redact: (value) => redactUrlPassword(String(value)),
  },
} as const satisfies Record<string, SettingDefinition>

export type SettingName = keyof typeof SETTINGS
export type Config = {[Name in SettingName]: z.output<(typeof SETTINGS)[Name]['schema']>}

export function environmentVariableOf(setting: SettingDefinition): string {
  return `SAASCTL_${setting.key.toUpperCase()}`
}

function redactUrlPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]+:)[^@/]*@/i, '$1***@')
}
