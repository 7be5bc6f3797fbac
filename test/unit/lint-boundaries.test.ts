import {ESLint} from 'eslint'
import {describe, expect, it} from 'vitest'

// The lint rule that CI runs (`npm run lint`) must refuse an import against the layer direction
// (commands → daemon → src; src imports no face) and let the allowed ones through.

const eslint = new ESLint({cwd: process.cwd()})

async function restrictedImports(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, {filePath})
  expect(result!.messages.filter((message) => message.ruleId !== 'no-restricted-imports')).toEqual([])
  return result!.messages.map((message) => message.message)
}

describe('lint: the import direction of the layers', () => {
  it.each([
    ['src/x.ts', "import express from 'express'\n"],
    ['src/access/x.ts', "import type {Request} from 'express'\n"],
    ['src/x.ts', "import {Command} from '@oclif/core'\n"],
    ['src/x.ts', "import {render} from 'ink'\n"],
    ['src/x.ts', "import {useState} from 'react'\n"],
    ['src/tenancy/x.ts', "import {createApp} from '../../daemon/create-app.js'\n"],
    ['src/x.ts', "export {startDaemon} from '../daemon/start-daemon.js'\n"],
    ['src/x.ts', "import Serve from '../commands/serve.js'\n"],
    ['migrations/0099-x.ts', "import {createLogger} from '../daemon/logger.js'\n"],
    ['daemon/x.ts', "import Serve from '../commands/serve.js'\n"],
    ['daemon/routes/x.ts', "import {BaseCommand} from '../../commands/lib/base-command.js'\n"],
  ])('%s: %s is refused', async (filePath, code) => {
    expect(await restrictedImports(code, filePath)).toHaveLength(1)
  })

  it.each([
    ['src/x.ts', "import {z} from 'zod'\nimport type {Kysely} from 'kysely'\nimport {can} from './access/authorize.js'\n"],
    ['src/access/x.ts', "import {createCore} from '../core.js'\n"],
    ['daemon/x.ts', "import express from 'express'\nimport {createCore} from '../src/core.js'\nimport {createLogger} from './logger.js'\n"],
    ['commands/x.ts', "import {Flags} from '@oclif/core'\nimport {startDaemon} from '../daemon/start-daemon.js'\nimport {createCore} from '../src/core.js'\n"],
  ])('%s: the allowed imports pass', async (filePath, code) => {
    expect(await restrictedImports(code, filePath)).toEqual([])
  })
})
