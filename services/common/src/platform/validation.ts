import { Ajv, type ErrorObject } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { FastifyInstance, FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify'

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

// Bodies are JSON: a string "5" where a number belongs is bad input, not something to coerce, and an
// unknown property is rejected (Fastify's default strips it silently). Path and query strings are
// text by nature, so they are coerced to the schema's types.
const strict = { removeAdditional: false, useDefaults: true, allErrors: false, strict: false } as const
const bodyAjv = addFormats(new Ajv({ ...strict, coerceTypes: false }))
const textAjv = addFormats(new Ajv({ ...strict, coerceTypes: 'array' }))

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodyAjv : textAjv).compile(schema) as ReturnType<FastifySchemaCompiler<object>>

/** One message that names the field: `body/quantity must be >= 1`, `body must NOT have additional property 'foo'`. */
export function schemaErrorFormatter (errors: FastifySchemaValidationError[], dataVar: string): Error {
  const first = errors[0] as (ErrorObject & FastifySchemaValidationError) | undefined
  if (first === undefined) return new Error(`${dataVar} is invalid`)
  const where = `${dataVar}${first.instancePath ?? ''}`
  const params = first.params as Record<string, unknown>
  let message: string
  if (first.keyword === 'additionalProperties') {
    message = `${where} must NOT have additional property '${String(params.additionalProperty)}'`
  } else if (first.keyword === 'required') {
    message = `${where} must have required property '${String(params.missingProperty)}'`
  } else {
    message = `${where} ${first.message ?? 'is invalid'}`
  }
  return new Error(message)
}

/**
 * One rule for query strings in every service: an unknown query parameter is bad input, answered 400
 * naming it (`querystring must NOT have additional property 'foo'`), the same as an unknown body
 * property. Applies to every documented route: one without a querystring schema accepts none.
 */
export function rejectUnknownQueryParameters (app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const schema = route.schema as ({ hide?: boolean, querystring?: Record<string, unknown> } | undefined)
    if (schema === undefined || schema.hide === true) return
    const query = schema.querystring
    if (query === undefined) schema.querystring = { type: 'object', properties: {}, additionalProperties: false }
    else if (query.type === 'object' && query.additionalProperties === undefined) schema.querystring = { ...query, additionalProperties: false }
  })
}
