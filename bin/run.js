#!/usr/bin/env node
// The CLI as bundled by `npm run build` (scripts/build-cli.mjs), started from V8's code cache.
import {startCli} from '../dist/cli/start.js'

await startCli(import.meta.url)
