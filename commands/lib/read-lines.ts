import {createInterface} from 'node:readline'

/**
 * Reads answers one line at a time from standard input: on a terminal it shows `prompt` (on
 * stderr, so stdout stays the command's output); piped, it takes the next line as is, so a
 * script or a test can answer. Returns null when input ends.
 */
export function createLineReader(): {next(prompt: string): Promise<string | null>; close(): void} {
  const isTerminal = Boolean(process.stdin.isTTY)
  const lines = createInterface({input: process.stdin, output: isTerminal ? process.stderr : undefined, terminal: isTerminal})
  const iterator = lines[Symbol.asyncIterator]()
  return {
    async next(prompt) {
      if (isTerminal) process.stderr.write(prompt)
      const result = await iterator.next()
      return result.done ? null : String(result.value)
    },
    close: () => lines.close(),
  }
}
