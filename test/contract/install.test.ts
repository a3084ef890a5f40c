import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ROOT, run } from '../helpers/pack.js'

// Issue #13 §3: the README's install steps work from the packed tarball in an empty folder, with
// the real npm against the real registry. The install command and the `overrides` block are read
// from README.md's Install section, so this fails when the README's instructions are wrong
// (without the overrides, s3db.js 19.5.10 asks for `cli-args-parser`, which the registry lacks).

const INSTALL_TIMEOUT_MS = 200_000

/** README.md's "## Install" section: its `npm install` command and its `overrides` JSON block. */
async function readmeInstall (): Promise<{ command: string[], overrides: Record<string, string> }> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8')
  const section = /^## Install\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1]
  if (section === undefined) throw new Error('README.md has no "## Install" section')
  const line = /^npm install .*$/m.exec(section)?.[0]
  if (line === undefined) throw new Error('README.md Install section has no `npm install` line')
  const block = /```json\n([\s\S]*?"overrides"[\s\S]*?)```/.exec(section)?.[1]
  if (block === undefined) throw new Error('README.md Install section has no ```json block with "overrides"')
  // The README shows the block as a package.json fragment (`"overrides": {...}`), not a document.
  const parsed = JSON.parse(`{${block}}`) as { overrides?: Record<string, string> }
  if (parsed.overrides === undefined) throw new Error(`README.md overrides block did not parse: ${block}`)
  return { command: line.trim().split(/\s+/), overrides: parsed.overrides }
}

/**
 * The child's environment minus what `npm test` sets about *this* project (npm 11 resolves the
 * project from cwd anyway; this keeps the temp folder a stranger's folder). npm's cache, registry
 * and user config stay, so CI's registry settings apply.
 */
function childEnv (): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_(package_|lifecycle_|config_local_prefix$|config_call$)/i.test(key)) continue
    env[key] = value
  }
  return env
}

/** Runs a command; resolves with its exit code and output instead of throwing, for clear failures. */
async function exec (file: string, args: string[], cwd: string, timeout: number): Promise<{ code: number, out: string }> {
  return await new Promise((resolve) => {
    execFile(file, args, { cwd, env: childEnv(), timeout, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1
      const why = error !== null && error.killed ? `\n(killed after ${timeout} ms)` : ''
      resolve({ code, out: `$ ${file} ${args.join(' ')}\n${stdout}${stderr}${why}` })
    })
  })
}

// What a new user runs once installed: both entry points and s3db.js load, the plugin serves a
// memory:// database on Fastify, and the package's own client connects and does a round trip.
const SMOKE = `
import Fastify from 'fastify'
import { Database } from 's3db.js'
import s3dbRealtime from 's3db-realtime'
import { createClient } from 's3db-realtime/client'

const db = new Database({ connectionString: 'memory://install-smoke/app', logLevel: 'silent' })
await db.connect()
await db.createResource({ name: 'messages', attributes: { content: 'string|required' } })
const app = Fastify()
await app.register(s3dbRealtime, { database: db, resources: { messages: true } })
await app.listen({ port: 0, host: '127.0.0.1' })
const client = createClient({ url: 'ws://127.0.0.1:' + app.server.address().port + '/ws' })
await client.connect({ timeoutMs: 10000 })
console.log('CONNECTED ' + (client.clientId !== null))
const saved = await client.insert('messages', { content: 'hello' })
console.log('ROUNDTRIP ' + (await client.get('messages', saved.id)).content)
client.close()
await app.close()
await db.disconnect()
console.log('DONE')
process.exit(0)
`

t.setTimeout(240_000)

t.test("README's install steps work from the packed tarball in an empty folder", async (t) => {
  const { command, overrides } = await readmeInstall()
  t.same(command.slice(0, 3), ['npm', 'install', 's3db-realtime'], 'README installs s3db-realtime with npm')

  const dir = await mkdtemp(join(tmpdir(), 's3db-rt-install-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT })
  const [pack] = JSON.parse(stdout) as Array<{ filename: string }>
  if (pack === undefined) throw new Error('npm pack produced nothing')
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'install-smoke', private: true, type: 'module', overrides }, null, 2))

  // The README's command with the tarball in place of the package name; the cache keeps it fast.
  const args = command.slice(1).map((arg) => arg === 's3db-realtime' ? join(dir, pack.filename) : arg)
  const install = await exec('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], dir, INSTALL_TIMEOUT_MS)
  t.equal(install.code, 0, 'npm install exits 0', { output: install.out })
  if (install.code !== 0) return

  await writeFile(join(dir, 'smoke.mjs'), SMOKE)
  const smoke = await exec(process.execPath, ['smoke.mjs'], dir, 30_000)
  t.equal(smoke.code, 0, 'the smoke script exits 0', { output: smoke.out })
  t.match(smoke.out, /^CONNECTED true$/m, 'the package client gets `connected` from the plugin')
  t.match(smoke.out, /^ROUNDTRIP hello$/m, 'an insert and a get go through s3db.js')
  t.match(smoke.out, /^DONE$/m, 'shuts down cleanly')
})
