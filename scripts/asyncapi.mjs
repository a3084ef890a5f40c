#!/usr/bin/env node
// Writes asyncapi.json (the protocol's AsyncAPI 3 document) from the built schemas in dist/.
// Run `npm run asyncapi` after changing a message schema; `--check` exits 1 when the committed
// file is stale instead of writing it. test/contract/asyncapi.test.ts fails on a stale file too.
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

const target = fileURLToPath(new URL('../asyncapi.json', import.meta.url))
const { buildAsyncApi } = await import('../dist/protocol/asyncapi.js')
const text = JSON.stringify(buildAsyncApi(), null, 2) + '\n'

if (process.argv.includes('--check')) {
  const current = await readFile(target, 'utf8').catch(() => '')
  if (current !== text) {
    process.stderr.write('asyncapi.json is out of date: run `npm run asyncapi` and commit it\n')
    process.exit(1)
  }
} else {
  await writeFile(target, text)
  process.stdout.write(`wrote ${target}\n`)
}
