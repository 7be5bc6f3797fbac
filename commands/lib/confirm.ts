import {createInterface} from 'node:readline/promises'
import {DomainError} from '../../src/errors/domain-error.js'

/**
 * Asks before a destructive action unless `--yes` was given. Without a terminal to ask on,
 * it refuses rather than guessing.
 */
export async function confirmOrRefuse(question: string, hasYesFlag: boolean): Promise<void> {
  if (hasYesFlag) return
  if (!process.stdin.isTTY) throw new DomainError('confirmation.required', `${question} Refusing without --yes (no terminal to ask on)`)
  const prompt = createInterface({input: process.stdin, output: process.stderr})
  try {
    const answer = await prompt.question(`${question} [y/N] `)
    if (!/^y(es)?$/i.test(answer.trim())) throw new DomainError('confirmation.required', 'Cancelled: not confirmed')
  } finally {
    prompt.close()
  }
}

/** Reads all of standard input (for --password-stdin), dropping one trailing newline. */
export async function readStandardInput(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}
