import {execFile} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BIN} from '../helpers/run-cli.js'

const run = promisify(execFile)

/**
 * Shell completion through @oclif/plugin-autocomplete, as an operator sets it up: the real binary
 * with HOME and XDG_CACHE_HOME in a temporary folder (the plugin writes its completion functions
 * under the cache folder), then bash asked what it completes.
 */
describe('saas-ctl autocomplete', () => {
  let home: string
  let env: NodeJS.ProcessEnv

  beforeAll(async () => {
    home = mkdtempSync(path.join(tmpdir(), 'saasctl-completion-'))
    env = {...process.env, HOME: home, XDG_CACHE_HOME: path.join(home, 'cache'), NODE_ENV: 'production'}
    // The set-up command: prints the instructions and builds the completion cache.
    const setUp = await run(process.execPath, [BIN, 'autocomplete', 'bash'], {env, timeout: 20_000})
    expect(setUp.stdout).toContain('saas-ctl autocomplete script bash')
  })
  afterAll(() => rmSync(home, {recursive: true, force: true}))

  /** What bash offers (each once) for `saas-ctl <words…>`, the last word being completed, once the set-up line is evaluated. */
  async function bashCompletes(words: string[]): Promise<string[]> {
    const {stdout: setupLine} = await run(process.execPath, [BIN, 'autocomplete', 'script', 'bash'], {env, timeout: 20_000})
    const script = [
      setupLine,
      `COMP_WORDS=(saas-ctl ${words.map((word) => `'${word}'`).join(' ')})`,
      `COMP_CWORD=${words.length}`,
      '_saas-ctl_autocomplete',
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n')
    const {stdout} = await run('bash', ['--norc', '--noprofile', '-c', script], {env, timeout: 20_000})
    return [...new Set(stdout.split('\n').filter(Boolean))].sort()
  }

  it('bash completes topics, their commands and a command\'s flags', async () => {
    expect(await bashCompletes(['or'])).toEqual(['org'])
    expect(await bashCompletes(['org', 'l'])).toEqual(['limits', 'list'])
    expect(await bashCompletes(['org', 'list', '--inc'])).toEqual(['--include-deleted'])
    const topLevel = await bashCompletes([''])
    expect(topLevel).toEqual(expect.arrayContaining(['audit', 'autocomplete', 'doctor', 'member', 'org', 'serve', 'user']))
  })

  it('zsh and PowerShell get completion functions naming the commands and their flags', async () => {
    const {stdout} = await run(process.execPath, [BIN, 'autocomplete', 'script', 'zsh'], {env, timeout: 20_000})
    expect(stdout).toContain(path.join(home, 'cache', 'saas-ctl', 'autocomplete', 'zsh_setup'))
    const functions = path.join(home, 'cache', 'saas-ctl', 'autocomplete', 'functions')
    const zsh = readFileSync(path.join(functions, 'zsh', '_saas-ctl'), 'utf8')
    expect(zsh).toContain('--include-deleted')
    expect(zsh).toContain('"list[List organizations]"')
    const powershell = readFileSync(path.join(functions, 'powershell', 'saas-ctl.ps1'), 'utf8')
    expect(powershell).toContain('"include-deleted"')
  })
})
