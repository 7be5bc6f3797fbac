import type {Compilable, CompiledQuery, Kysely} from 'kysely'

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
