import {z} from 'zod'
import {toSnakeCase} from '../../src/shared/json-shape.js'
import {rateLimitGroupOf} from '../middleware/rate-limit.js'
import {BODY_MEDIA_TYPES, type AnyRoute} from './route.js'

export interface OpenApiInfo {
  title: string
  version: string
  description?: string
}

type JsonSchema = Record<string, unknown>

const ERROR_SCHEMA_REF = {$ref: '#/components/schemas/Error'}
const OAUTH_ERROR_SCHEMA_REF = {$ref: '#/components/schemas/OAuthError'}

/** RFC 6749 §5.2: how the OAuth endpoints (/v1/oauth/*, and introspection spoken in OAuth's dialect) answer errors. */
const OAUTH_ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {type: 'string', description: 'invalid_request, invalid_client, invalid_grant, unsupported_grant_type, unsupported_token_type, invalid_scope, server_error, temporarily_unavailable'},
    error_description: {type: 'string'},
  },
}

const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['error', 'request_id'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'details'],
      properties: {
        code: {type: 'string', description: 'Stable error code, e.g. validation.failed, auth.invalid_token'},
        message: {type: 'string'},
        details: {description: 'Code-specific details (validation.failed: {problems: [{in, field, message}]}), or null'},
      },
    },
    request_id: {type: 'string'},
  },
}

/**
 * The OpenAPI 3.1 document of the routes, generated from the same zod schemas that validate
 * them (zod's JSON Schema 2020-12 output is OpenAPI 3.1's schema dialect).
 */
export function buildOpenApiDocument(routes: readonly AnyRoute[], info: OpenApiInfo): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of routes) {
    if (route.isHidden) continue
    const path = route.path.replace(/:(\w+)/g, '{$1}')
    paths[path] ??= {}
    paths[path]![route.method] = describeOperation(route)
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas: {Error: ERROR_SCHEMA, OAuthError: OAUTH_ERROR_SCHEMA},
      securitySchemes: {
        access_token: {type: 'http', scheme: 'bearer', bearerFormat: 'JWT'},
        api_key: {type: 'http', scheme: 'bearer', bearerFormat: 'sk_…', description: 'An API key (`sk_…`) as a Bearer token'},
      },
    },
  }
}

function describeOperation(route: AnyRoute): Record<string, unknown> {
  const operation: Record<string, unknown> = {
    operationId: route.operationId ?? operationIdOf(route),
    summary: route.summary,
  }
  if (route.description) operation.description = route.description
  if (route.tags?.length) operation.tags = route.tags
  const parameters = [...describeParameters(route.params, 'path'), ...describeParameters(route.query, 'query')]
  if (parameters.length > 0) operation.parameters = parameters
  if (route.body) {
    const schema = snakeCaseProperties(toSchema(route.body, 'input'))
    operation.requestBody = {required: true, content: Object.fromEntries((route.bodyFormats ?? ['json']).map((format) => [BODY_MEDIA_TYPES[format], {schema}]))}
  }
  if (route.auth === 'access_token') operation.security = [{access_token: []}]
  if (route.auth === 'principal') operation.security = [{access_token: []}, {api_key: []}]
  operation.responses = {...describeResponses(route), ...describeErrors(route)}
  return operation
}

function describeParameters(schema: z.ZodType | undefined, location: 'path' | 'query'): Record<string, unknown>[] {
  if (!schema) return []
  // Path parameters keep the names of the path template; query fields are snake_case on the wire.
  const objectSchema = location === 'query' ? (snakeCaseProperties(toSchema(schema, 'input')) as JsonSchema) : toSchema(schema, 'input')
  const properties = (objectSchema.properties ?? {}) as Record<string, JsonSchema>
  const required = new Set((objectSchema.required ?? []) as string[])
  return Object.entries(properties).map(([name, property]) => {
    const {description, ...propertySchema} = property
    return {name, in: location, required: location === 'path' || required.has(name), ...(description ? {description} : {}), schema: propertySchema}
  })
}

function describeResponses(route: AnyRoute): Record<string, unknown> {
  const responses: Record<string, unknown> = {}
  for (const [status, spec] of Object.entries(route.responses)) {
    const contentType = spec.contentType ?? 'application/json'
    responses[status] = {
      description: spec.description,
      ...(spec.schema ? {content: {[contentType]: {schema: toSchema(spec.schema, 'output')}}} : contentType === 'application/json' ? {} : {content: {[contentType]: {schema: {type: 'string'}}}}),
    }
  }
  return responses
}

/** The error answers of a route that speaks OAuth's dialect only (RFC 6749 §5.2). */
const OAUTH_ERRORS: Record<string, string> = {
  400: 'invalid_request (also a malformed body, or a field that breaks its rule), invalid_grant, unsupported_grant_type, unsupported_token_type or invalid_scope',
  401: 'invalid_client, with WWW-Authenticate',
  413: 'Body too large (invalid_request)',
  415: 'Body neither form-encoded nor JSON (invalid_request)',
  429: 'Over the client IP’s request budget, with Retry-After and RateLimit-* headers',
  default: 'Any other error (server_error, temporarily_unavailable)',
}

function describeErrors(route: AnyRoute): Record<string, unknown> {
  if (route.errorFormat === 'oauth') return describeErrorsOf(route, rateLimitGroupOf(route) === 'none' ? withoutKey(OAUTH_ERRORS, '429') : OAUTH_ERRORS, OAUTH_ERROR_SCHEMA_REF)
  const errors: Record<string, string> = {}
  if (route.auth === 'access_token') errors['401'] = 'No valid access token (auth.invalid_token)'
  if (route.auth === 'principal') errors['401'] = 'No valid access token or API key (auth.invalid_token)'
  if (route.body) {
    errors['400'] = 'Malformed JSON (http.malformed_json)'
    errors['413'] = 'Body too large (http.payload_too_large)'
    errors['415'] = route.bodyFormats?.includes('form') ? 'Body neither JSON nor form-encoded (http.unsupported_media_type)' : 'Body not JSON (http.unsupported_media_type)'
  }
  if (route.body || route.query || route.params) errors['422'] = 'Invalid input (validation.failed)'
  if (rateLimitGroupOf(route) !== 'none') errors['429'] = 'Over the request budget (http.rate_limited), with Retry-After and RateLimit-* headers'
  errors.default = 'Any other error, with its stable code'
  // A route that decides per request answers in either form.
  return describeErrorsOf(route, errors, typeof route.errorFormat === 'function' ? {oneOf: [ERROR_SCHEMA_REF, OAUTH_ERROR_SCHEMA_REF]} : ERROR_SCHEMA_REF)
}

function withoutKey(record: Record<string, string>, key: string): Record<string, string> {
  const {[key]: _left, ...rest} = record
  return rest
}

function describeErrorsOf(route: AnyRoute, errors: Record<string, string>, schema: JsonSchema): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(errors)
      .filter(([status]) => route.responses[Number(status)] === undefined)
      .map(([status, description]) => [status, {description, content: {'application/json': {schema}}}]),
  )
}

function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const {$schema: _dialect, ...jsonSchema} = z.toJSONSchema(schema, {target: 'draft-2020-12', io, unrepresentable: 'any'}) as JsonSchema
  return jsonSchema
}

/**
 * The schema with its property names (and `required` lists) in snake_case, as the wire has
 * them: input schemas are the services' own, in camelCase, and the daemon converts incoming
 * keys (see toCamelShape). Keywords of JSON Schema itself are left alone.
 */
function snakeCaseProperties(node: unknown): JsonSchema {
  return renameProperties(node) as JsonSchema
}

function renameProperties(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(renameProperties)
  if (node === null || typeof node !== 'object') return node
  const renamed: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (key === 'properties' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      renamed[key] = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([name, schema]) => [toSnakeCase(name), renameProperties(schema)]))
    } else if (key === 'required' && Array.isArray(value)) {
      renamed[key] = value.map((name: unknown) => (typeof name === 'string' ? toSnakeCase(name) : name))
    } else {
      renamed[key] = renameProperties(value)
    }
  }
  return renamed
}

function operationIdOf(route: AnyRoute): string {
  const words = route.path
    .split('/')
    .filter(Boolean)
    .map((segment) => segment.replace(/^:/, 'by_').replace(/[^A-Za-z0-9]+/g, '_'))
  return [route.method, ...words].join('_')
}
