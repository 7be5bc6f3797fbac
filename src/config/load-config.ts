import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {DomainError} from '../errors/domain-error.js'
import {environmentVariableOf, SETTINGS, type Config, type SettingDefinition, type SettingName} from './settings.js'

export const DEFAULT_CONFIG_FILE = 'saas-ctl.config.json'

export type SettingSource = 'flag' | 'env' | 'file' | 'default'

export interface EffectiveSetting {
  name: SettingName
  key: string
  value: unknown
  source: SettingSource
}

export interface LoadConfigInput {
  /** Values from command flags, by setting name; undefined means "not given". */
  flags?: Partial<Record<SettingName, unknown>>
  /** The process environment, passed in: the core never reads process.env itself. */
  env?: Record<string, string | undefined>
  cwd: string
  /** An explicit config file (--config or SAASCTL_CONFIG); it must exist. */
  configPath?: string
}

export interface LoadedConfig {
  config: Config
  settings: EffectiveSetting[]
  configFile: string | null
}

/** Resolves every setting: flags > environment > config file > defaults. Raises `config.invalid`. */
export function loadConfig(input: LoadConfigInput): LoadedConfig {
  const env = input.env ?? {}
  const explicitPath = input.configPath ?? env.SAASCTL_CONFIG
  const {values: fileValues, file} = readConfigFile(input.cwd, explicitPath)
  const config: Record<string, unknown> = {}
  const settings: EffectiveSetting[] = []
  for (const [name, definition] of Object.entries(SETTINGS) as [SettingName, SettingDefinition][]) {
    const [raw, source] = pickValue(definition, input.flags?.[name], env[environmentVariableOf(definition)], fileValues[definition.key])
    const parsed = definition.schema.safeParse(raw)
    if (!parsed.success) {
      throw new DomainError('config.invalid', `Invalid setting ${definition.key} (from ${source}): ${parsed.error.issues[0]?.message}`)
    }
    config[name] = parsed.data
    settings.push({name, key: definition.key, value: parsed.data, source})
  }
  return {config: config as Config, settings, configFile: file}
}

/** The effective settings as `saas-ctl config` shows them: secrets redacted. */
export function describeSettings(settings: EffectiveSetting[]): EffectiveSetting[] {
  return settings.map((setting) => {
    const definition: SettingDefinition = SETTINGS[setting.name]
    return {...setting, value: definition.redact ? definition.redact(setting.value) : setting.value}
  })
}

function pickValue(definition: SettingDefinition, flag: unknown, env: string | undefined, file: unknown): [unknown, SettingSource] {
  if (flag !== undefined) return [flag, 'flag']
  if (env !== undefined && env !== '') return [env, 'env']
  if (file !== undefined) return [file, 'file']
  return [definition.defaultValue, 'default']
}

function readConfigFile(cwd: string, explicitPath: string | undefined): {values: Record<string, unknown>; file: string | null} {
  const file = explicitPath ? path.resolve(cwd, explicitPath) : path.join(cwd, DEFAULT_CONFIG_FILE)
  if (!existsSync(file)) {
    if (explicitPath) throw new DomainError('config.invalid', `Config file not found: ${file}`)
    return {values: {}, file: null}
  }
  let values: unknown
  const text = readFileSync(file, 'utf8')
  try {
    values = JSON.parse(text)
  } catch (error) {
    throw new DomainError('config.invalid', `Config file ${file} is not valid JSON: ${describeJsonError(text, (error as Error).message)}`)
  }
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    throw new DomainError('config.invalid', `Config file ${file} must hold a JSON object`)
  }
  const knownKeys = new Set(Object.values(SETTINGS).map((definition: SettingDefinition) => definition.key))
  const unknownKey = Object.keys(values).find((key) => !knownKeys.has(key))
  if (unknownKey) throw new DomainError('config.invalid', `Config file ${file} has an unknown setting: ${unknownKey}`)
  return {values: values as Record<string, unknown>, file}
}

/**
 * JSON.parse's complaint with only where it is: its messages can quote the text around the
 * mistake, and the config file holds secrets (secret_key, the SMTP password), so nothing of the
 * file's content is repeated — the kind of mistake, and the line and column.
 */
export function describeJsonError(text: string, message: string): string {
  const positioned = /^(.*?) in JSON at position (\d+)/.exec(message)
  if (positioned) {
    const [, kind = '', offset = '0'] = positioned
    // V8's descriptions quote single punctuation marks ("Expected ',' or '}'"); anything else quoted might be the file's.
    const description = /['"`]/.test(kind.replace(/'[^\w\s']'/g, '')) ? 'a syntax error' : kind
    return `${description} at ${locate(text, Number(offset))}`
  }
  if (/^Unexpected end of JSON input/.test(message)) return `it ends too early, at ${locate(text, text.length)}`
  if (/^Unexpected token/.test(message)) {
    // No position in this message: the shortest prefix that fails the same way ends with the character.
    let low = 1
    let high = text.length
    while (low < high) {
      const middle = (low + high) >> 1
      if (failsWithUnexpectedToken(text.slice(0, middle))) high = middle
      else low = middle + 1
    }
    return `an unexpected character at ${locate(text, low - 1)}`
  }
  return 'a syntax error'
}

function failsWithUnexpectedToken(text: string): boolean {
  try {
    JSON.parse(text)
    return false
  } catch (error) {
    return /^Unexpected token/.test((error as Error).message)
  }
}

function locate(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n')
  return `line ${before.length}, column ${(before[before.length - 1] ?? '').length + 1}`
}
