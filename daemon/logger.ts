import {pino, type DestinationStream, type Logger as PinoLogger} from 'pino'

export type Logger = PinoLogger

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export interface LoggerOptions {
  level?: LogLevel
  /** Where JSON lines go; default stdout. Tests pass a stream to read them. */
  destination?: DestinationStream
}

/**
 * Paths censored if they ever reach a log line. The daemon never logs headers, bodies or
 * query strings in the first place; this is the second line of defence.
 */
const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'password',
  '*.password',
  'new_password',
  '*.new_password',
  'current_password',
  '*.current_password',
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'private_key',
  '*.private_key',
]

/** The daemon's structured JSON logger: ISO timestamps, level names, secrets censored. */
export function createLogger({level = 'info', destination}: LoggerOptions = {}): Logger {
  const options = {
    level,
    base: {service: 'saas-ctl'},
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {level: (label: string) => ({level: label})},
    redact: {paths: REDACTED_PATHS, censor: '[redacted]'},
  }
  return destination ? pino(options, destination) : pino(options)
}
