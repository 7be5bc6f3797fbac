import type {Compilable, CompiledQuery, Kysely, QueryResult} from 'kysely'
import type {DialectName} from './database-url.js'
import {dialectOf} from './dialect-helpers.js'

/**
 * A query built and compiled once, then run with new parameter values: Kysely otherwise rebuilds
 * and recompiles the same SQL on every call, which dominates small queries on a hot path.
 * `build` receives marker strings in place of the parameters; the markers hold NUL, which no
 * real input may (requests with NUL are refused), so they cannot collide with real values.
 */
export function prepareQuery<Row, Parameters extends string[]>(db: Kysely<any>, parameterCount: Parameters['length'], build: (...markers: Parameters) => Compilable<Row>) {
  const markers = Array.from({length: parameterCount}, (_, index) => `\u0000parameter-${index}\u0000`) as Parameters
  let compiled: CompiledQuery<Row> | undefined
  return async (...values: Parameters): Promise<Row[]> => {
    compiled ??= build(...markers).compile()
    const parameters = compiled.parameters.map((value) => {
      const index = markers.indexOf(value as string)
      return index >= 0 ? values[index] : value
    })
    return (await db.executeQuery<Row>({...compiled, parameters})).rows
  }
}

/**
 * A query built and compiled once per dialect, then run on whichever handle each call passes:
 * the database or a transaction (the SQL text depends only on the dialect, not on the handle;
 * no handle here carries a Kysely plugin, which could rewrite a query per handle).
 * For the statements every audited change runs (the audit append, its webhook hook, the org
 * lookup), which run inside transactions: prepareQuery binds one handle, and a transaction is a
 * new handle each time. Only the SQL text is shared, never a result: every call reads the
 * database. `build` receives marker strings (typed as the values they stand for) in place of
 * the parameters; each marker must be used as a value only (a where or set operand, an inserted
 * value), never to shape the query. Returns the whole result (rows, and numAffectedRows for a
 * write).
 */
export function sharedQuery<Row, Values extends unknown[]>(parameterCount: Values['length'], build: (db: Kysely<any>, ...markers: Values) => Compilable<Row>) {
  const markers = Array.from({length: parameterCount}, (_, index) => `\u0000parameter-${index}\u0000`)
  const compiledByDialect = new Map<DialectName, {compiled: CompiledQuery<Row>; slots: number[]}>()
  return async (db: Kysely<any>, ...values: Values): Promise<QueryResult<Row>> => {
    const dialect = dialectOf(db)
    let entry = compiledByDialect.get(dialect)
    if (!entry) {
      const compiled = build(db, ...(markers as Values)).compile()
      // Which value each parameter takes (-1: a constant of the query, kept as compiled).
      const slots = compiled.parameters.map((value) => markers.indexOf(value as string))
      if (markers.some((_, index) => !slots.includes(index))) throw new TypeError('sharedQuery: a parameter marker is not in the compiled query')
      entry = {compiled, slots}
      compiledByDialect.set(dialect, entry)
    }
    const {compiled, slots} = entry
    const parameters = compiled.parameters.map((value, index) => (slots[index]! >= 0 ? values[slots[index]!] : value))
    return db.executeQuery<Row>({...compiled, parameters})
  }
}
