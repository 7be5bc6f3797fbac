#!/usr/bin/env node
// oclif as bundled by `npm run build` (scripts/build-cli.mjs), with the commands it starts.
import oclif from '../dist/cli/oclif.js'

await oclif.execute({dir: import.meta.url})
