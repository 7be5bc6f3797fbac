// `node --require ./test/helpers/builtin-trace.cjs …`: writes the names of the Node built-in
// modules the process loaded (process.moduleLoadList, one per line) to $BUILTIN_TRACE_FILE when it exits.
'use strict'
const {writeFileSync} = require('node:fs')

process.on('exit', () => {
  const builtins = process.moduleLoadList.filter((entry) => entry.startsWith('NativeModule ')).map((entry) => entry.slice('NativeModule '.length))
  writeFileSync(process.env.BUILTIN_TRACE_FILE, `${builtins.join('\n')}\n`)
})
