import {useCallback, useEffect, useState} from 'react'
import {describeError} from './text.js'

/**
 * Data a pane shows, loaded from the core when `key` changes or on `reload()`. A failure is kept
 * as text (message and code) for the pane to show in place.
 */
export function useLoad<T>(load: () => Promise<T>, key: string): {data: T | undefined; error: string | null; reload: () => void} {
  const [state, setState] = useState<{data: T | undefined; error: string | null}>({data: undefined, error: null})
  const [generation, setGeneration] = useState(0)
  useEffect(() => {
    let isCurrent = true
    load().then(
      (data) => isCurrent && setState({data, error: null}),
      (error: unknown) => isCurrent && setState({data: undefined, error: describeError(error)}),
    )
    return () => {
      isCurrent = false
    }
    // The loader is a new closure on every render; `key` and `generation` say when to load again.
  }, [key, generation])
  const reload = useCallback(() => setGeneration((current) => current + 1), [])
  return {...state, reload}
}
