// `node --import ./test/helpers/module-trace.mjs …`: writes the URLs of the modules the process
// loaded through the ESM loader (one per line) to $MODULE_TRACE_FILE when it exits. Modules a
// CommonJS package requires internally are not seen; its entry point, imported from ESM, is.
import {writeFileSync} from 'node:fs'
import {register} from 'node:module'
import {MessageChannel} from 'node:worker_threads'

const {port1, port2} = new MessageChannel()
const loaded = []
port1.on('message', (url) => loaded.push(url))
port1.unref()
register('./module-trace-hooks.mjs', {parentURL: import.meta.url, data: {port: port2}, transferList: [port2]})
process.on('exit', () => writeFileSync(process.env.MODULE_TRACE_FILE, `${loaded.join('\n')}\n`))
