import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runInNewContext } from 'node:vm'
import { FormatRegistry, type TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Database } from 's3db.js'
import t, { type Test } from 'tap'
import { ClientSchemas } from '../../src/wire/client-schemas.js'
import { ErrorDetailsSchemas, ServerSchemas } from '../../src/wire/server-schemas.js'
import { ROOT, documentationBlocks, type ReadmeBlock } from '../helpers/readme.js'
import { buildProject, pool, runBlock, type BuildInput } from '../helpers/readme-run.js'
import { freePort, RedisProcess } from '../helpers/redis.js'
import { connect } from '../helpers/client.js'

/*
 * Issue #13: every fenced code block of README.md and of every docs/*.md page is executed or
 * checked here, so examples cannot rot. A block is named by its nearest heading and its rank under
 * it, prefixed with its page outside README.md ('Try it #1', 'docs/options.md: Health #1').
 * ts/js blocks run by default: each becomes a module (a prelude from test/readme/harness.ts
 * supplies, with real objects, the names a fragment uses without defining them, plus imports it
 * leaves out), all are type-checked together by the project's TypeScript in strict mode against
 * the built package (`import … from 's3db-realtime'` resolves to dist, as for a user), then each
 * runs in its own Node process and must reach its end (README-BLOCK-DONE) with exit code 0.
 * json blocks must parse (and are used: the CLI config runs, protocol transcripts validate against
 * the message schemas). bash blocks must be decided one by one in BASH below.
 *
 * Textual substitutions applied to every ts/js block before it runs (the blocks run concurrently,
 * on this machine, not on the ports or hosts of the examples):
 */
const SUBSTITUTIONS: Array<[RegExp, string]> = [
  [/\bport: 300[01]\b/g, 'port: 0'], // listen on a free port
  [/'ws:\/\/localhost:3000\/ws\?token='/g, "__ctx.url + '?token='"], // the harness server's URL
  [/'ws:\/\/localhost:3000\/ws'/g, '__ctx.url']
]

const SECRET = 'readme-blocks-secret-that-is-long-enough'
const SCRAPE_TOKEN = 'readme-scrape-token'

/** How a ts/js block runs: harness setup (see harness.ts SetupOptions), an epilogue checking it did something, env. */
interface RunSpec {
  setup?: Record<string, unknown>
  /** Makes a fragment that is not a statement (an options object) into one. */
  wrap?: (code: string) => string
  /** Runs after the block, in its scope (same language as the block). */
  after?: string
  /** Needs Redis: REDIS_URL points at a real redis-server (database `redisDb`). */
  redisDb?: number
  timeoutMs?: number
}

const register = (code: string): string => `await app.register(s3dbRealtime, { database: db, resources: { messages: true },\n${code}\n})`

/** Blocks with a spec of their own; other ts/js blocks run with a setup guessed from their text. */
const RUN: Record<string, RunSpec> = {
  // A complete program. It listens; then a browser-like client authenticates in-band with a token
  // of the app's own @fastify/jwt and gets the events its room guard lets through.
  'Add it to your Fastify app #1': {
    after: `{
  const { createClient } = await import('s3db-realtime/client')
  const port = (app.server.address() as { port: number }).port
  const user = createClient({ url: \`ws://localhost:\${port}/ws\`, token: app.jwt.sign({ id: 'u1', room: 'r1' }), inBandAuth: true, reconnect: false })
  await user.connect()
  const event = new Promise((resolve) => { void user.subscribe('messages', {}, resolve) })
  await new Promise((resolve) => setTimeout(resolve, 50))
  await db.resources.messages.insert({ content: 'hi', room: 'r1' })
  await event
  user.close()
  await app.close()
  await db.disconnect()
}`
  },
  // The browser half of that recipe, against a server set up the same way.
  'Add it to your Fastify app #2': {
    setup: { app: 'realtime', realtime: { auth: { jwt: 'fastify', required: true, inBand: true } } },
    after: `await __ctx.db.resources.messages.insert({ content: 'hi', room: 'r1' })
await __ctx.calls.wait('render')
client.close()`
  },
  'docs/api.md: The Fastify plugin (REST and WebSocket on one port) #1': {
    after: `if (!app.realtime.getServerInfo().resources.includes('users')) throw new Error('users not exposed')
await app.close()
await db.disconnect()`
  },
  "The seed's API: `WebSocketPlugin` #1": { setup: { app: 'none' } },
  'docs/protocol.md: AsyncAPI document #1': {
    setup: { app: 'bare' },
    after: `{
  const answer = await app.inject({ url: '/ws/asyncapi.json' })
  if (answer.statusCode !== 200 || (answer.json() as { asyncapi?: string }).asyncapi === undefined) throw new Error(answer.body)
}`
  },
  "docs/auth-and-security.md: Use your app's @fastify/jwt #1": { setup: { app: 'bare' }, after: 'await app.ready()' },
  // The hook lets in-band sockets through and still protects the app's own routes.
  "docs/auth-and-security.md: Use your app's @fastify/jwt #2": {
    setup: { app: 'realtime', listen: false, realtime: { auth: { jwt: 'fastify', required: true, inBand: true } } },
    after: `{
  app.get('/private', async () => ({ ok: true }))
  const url = await __ctx.start()
  const denied = await app.inject({ url: '/private' })
  if (denied.statusCode !== 401) throw new Error(\`/private answered \${denied.statusCode}\`)
  const { createClient } = await import('s3db-realtime/client')
  const user = createClient({ url, token: __ctx.sign(), inBandAuth: true, reconnect: false })
  await user.connect()
  user.close()
}`
  },
  // Every driver registers (nothing is fetched before a token needs it); the ticket route uses the app's auth.
  'docs/auth-and-security.md: Built-in drivers (apps without @fastify/jwt) #1': {
    setup: { app: 'bare' },
    after: `{
  const anonymous = await app.inject({ method: 'POST', url: '/ws/ticket' })
  const known = await app.inject({ method: 'POST', url: '/ws/ticket', headers: { 'x-user': 'u1' } })
  if (anonymous.statusCode !== 401 || typeof (known.json() as { ticket?: unknown }).ticket !== 'string') throw new Error(\`\${anonymous.statusCode} \${known.body}\`)
}`
  },
  'docs/auth-and-security.md: Tickets #1': {
    setup: { app: 'realtime' },
    after: `{
  const { createClient } = await import('s3db-realtime/client')
  const user = createClient({ url: __ctx.url, ticket: async () => ticket, reconnect: false })
  await user.connect()
  user.close()
  if (typeof expiresAt !== 'string') throw new Error('no expiresAt')
}`
  },
  "docs/channels.md: Publish to a resource's subscribers #1": {
    setup: { socket: true },
    after: `await new Promise((resolve, reject) => {
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data))
    if (frame.type === 'published' && frame.requestId === '9') resolve(frame)
    else reject(new Error(String(data)))
  })
})`
  },
  'docs/channels.md: Channels #1': {
    setup: { app: 'realtime' },
    after: `await __ctx.calls.wait('render')
await new Promise((resolve, reject) => {
  ws.addEventListener('message', ({ data }) => {
    const frame = JSON.parse(String(data))
    if (frame.type === 'error') reject(new Error(String(data)))
    if (frame.type === 'channel:sent') resolve(frame)
  })
  typing(true)
  say('hi')
})
ws.close()`
  },
  'docs/channels.md: Channels #2': { setup: { app: 'bare' }, wrap: register, after: 'await app.ready()' },
  'docs/scaling.md: Scaling out #1': { setup: { app: 'bare' }, redisDb: 1, after: 'await app.ready()' },
  'docs/scaling.md: Workers #1': { setup: { app: 'none' }, redisDb: 2 },
  'docs/operations.md: Health #1': {
    setup: { app: 'bare' },
    after: `{
  await app.listen({ port: 0, host: '127.0.0.1' })
  const answer = await app.inject({ url: '/ops/health/ready' })
  const { checks } = answer.json() as { checks: Record<string, { status: string }> }
  for (const name of ['billing-api', 'cache', 'search', 's3db', 'websocket']) {
    if (checks[name]?.status !== 'healthy') throw new Error(\`\${name}: \${answer.body}\`)
  }
  if (answer.statusCode !== 200) throw new Error(answer.body)
}`
  },
  'docs/operations.md: Health #2': {
    setup: { app: 'realtime', listen: false, realtime: { health: true } },
    after: `{
  app.get('/private', async () => ({ ok: true }))
  await app.ready()
  const probe = await app.inject({ url: '/health/live' })
  const denied = await app.inject({ url: '/private' })
  if (probe.statusCode !== 200 || denied.statusCode !== 401) throw new Error(\`/health/live \${probe.statusCode}, /private \${denied.statusCode}\`)
}`
  },
  'docs/operations.md: Metrics #1': {
    setup: { app: 'bare' },
    wrap: register,
    after: `{
  const refused = await app.inject({ url: '/metrics' })
  const scraped = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer ${SCRAPE_TOKEN}' } })
  if (refused.statusCode !== 403 || scraped.statusCode !== 200) throw new Error(\`/metrics \${refused.statusCode} then \${scraped.statusCode}\`)
}`
  },
  'docs/operations.md: Metrics #2': {
    setup: { app: 'bare' },
    after: `{
  const answer = await app.inject({ url: '/internal/metrics' })
  if (answer.statusCode !== 200 || !answer.body.includes('s3db_realtime_connections') || !answer.body.includes('process_cpu')) throw new Error(answer.body.slice(0, 300))
}`
  },
  // The page is served and the API answers; who may inspect is test/e2e/inspector.test.ts.
  'docs/operations.md: Inspector #1': {
    after: `{
  const page = await app.inject({ url: '/realtime/inspector' })
  if (page.statusCode !== 200 || !page.body.includes('s3db-realtime inspector')) throw new Error(\`/realtime/inspector \${page.statusCode}\`)
  if (app.realtime.inspect().node.path !== '/ws') throw new Error('inspect()')
}`
  },
  // It wires SIGTERM itself: send one, expect the clean exit (0) it promises.
  'docs/operations.md: Graceful shutdown #1': {
    setup: { app: 'none', fileBucket: true },
    after: `process.stdout.write('README-BLOCK-DONE\\n')
process.kill(process.pid, 'SIGTERM')
await new Promise(() => {})`
  },
  // Constructing the Database does not connect: no MinIO needed for what the block does.
  'docs/operations.md: Real S3 (AWS, MinIO, local) #1': { setup: { app: 'none' } },
  'docs/client.md: Client (`s3db-realtime/client`) #1': { setup: { app: 'realtime' }, after: 'client.close()' },
  'docs/client.md: Subscriptions that survive reconnects #1': { setup: { client: true }, after: "await __ctx.calls.wait('view.replaceAll')" },
  'docs/client.md: Channels and presence #1': { setup: { client: true } }
}

/** bash blocks: each decided by hand (a new one fails until it is). */
const BASH: Record<string, { skip: string } | { run: 'cli' | 'cluster' }> = {
  'Try it #1': { skip: '`npm install` needs the registry, `npm start` rebuilds dist (which the running suite reads) and serves until stopped, `npm test` would run this suite recursively; the demo server itself (examples/server.ts) is driven by test/e2e/browser.test.ts' },
  'Install #1': { skip: 'installs from the public registry; test/contract/install.test.ts runs this very command (read from this block) against the packed tarball' },
  'docs/scaling.md: Try it: two instances #1': { run: 'cluster' },
  'docs/operations.md: Command line: `npx s3db-realtime` #1': { run: 'cli' }
}

/** Non-ts/js blocks that are checked, not run, and how. */
const CHECKS: Record<string, (t: Test, block: ReadmeBlock, blocks: ReadmeBlock[]) => Promise<void> | void> = {
  // A package.json fragment: the overrides users need are the ones this repository installs with.
  'Install #2': async (t, block) => {
    const parsed = JSON.parse(`{${block.code}}`) as { overrides: unknown }
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { overrides: unknown }
    t.same(parsed.overrides, pkg.overrides, 'same overrides as package.json')
  },
  'docs/auth-and-security.md: Expiry and refresh #1': (t, block) => { checkTranscript(t, block) },
  'docs/operations.md: Backpressure (slow consumers) #1': (t, block) => {
    const frame = runInNewContext(`(${block.code})`) as { code: string, details: unknown }
    checkFrame(t, frame, 'server')
  },
  // Run by the bash block above (`--config realtime.json`); here it must at least parse.
  'docs/operations.md: Command line: `npx s3db-realtime` #2': (t, block) => { t.ok(JSON.parse(block.code), 'parses') }
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (value) => ISO.test(value) && !Number.isNaN(Date.parse(value)))

/** A client message against the schema the server validates it with; a server frame against wire/server-schemas. */
function checkFrame (t: Test, frame: Record<string, unknown>, side: 'client' | 'server'): void {
  const schemas: Record<string, unknown> = side === 'client' ? ClientSchemas : ServerSchemas
  const schema = schemas[String(frame.type)] as TSchema | undefined
  if (schema === undefined) { t.fail(`no ${side} message type "${String(frame.type)}"`, { frame }); return }
  const check = TypeCompiler.Compile(schema)
  t.ok(check.Check(frame), `${side} ${String(frame.type)} matches its schema`, { frame, errors: [...check.Errors(frame)].slice(0, 5).map((e) => `${e.path}: ${e.message}`) })
  const details = frame.type === 'error' ? (ErrorDetailsSchemas as Record<string, TSchema | undefined>)[String(frame.code)] : undefined
  if (details !== undefined) t.ok(TypeCompiler.Compile(details).Check(frame.details), `${String(frame.code)} details match their schema`, { details: frame.details })
}

/** `→ {…}` (client) / `← {…}` (server) lines; `...` stands for more claims. */
function checkTranscript (t: Test, block: ReadmeBlock): void {
  const lines = block.code.split('\n').filter((line) => line.trim() !== '')
  t.ok(lines.length > 0, 'has messages')
  for (const line of lines) {
    const match = /^([→←])\s*(.*)$/.exec(line)
    if (match === null) { t.fail(`not a transcript line: ${line}`); continue }
    const frame = JSON.parse((match[2] ?? '').replace(/,\s*\.\.\.\s*}/g, '}')) as Record<string, unknown>
    checkFrame(t, frame, match[1] === '→' ? 'client' : 'server')
  }
}

/** The setup a block without a spec gets: it registers the plugin itself, or it is a client, or it uses a running app. */
function guessSetup (code: string): Record<string, unknown> {
  if (/register\(s3dbRealtime/.test(code)) return { app: 'bare' }
  if (/(?<![.\w])client\./.test(code) && !/createClient/.test(code)) return { client: true }
  return { app: 'realtime' }
}

function substitute (code: string): string {
  return SUBSTITUTIONS.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), code)
}

const blocks = await documentationBlocks()
const redis = new RedisProcess(await freePort())
await redis.start()
t.teardown(async () => { await redis.stop() })

const runnable = blocks.filter((b) => (b.lang === 'ts' || b.lang === 'js') && CHECKS[b.id] === undefined)
const inputs: BuildInput[] = runnable.map((block) => {
  const spec = RUN[block.id] ?? {}
  const code = (spec.wrap ?? ((c: string) => c))(substitute(block.code))
  const env: Record<string, string> = { JWT_SECRET: SECRET, SCRAPE_TOKEN }
  if (spec.redisDb !== undefined) env.REDIS_URL = `${redis.url}/${spec.redisDb}`
  return { block, code, setup: spec.setup ?? guessSetup(block.code), after: spec.after ?? '', env, timeoutMs: spec.timeoutMs ?? 30_000 }
})
const started = Date.now()
const project = await buildProject(inputs)
t.comment(`compiled ${inputs.length} blocks in ${Date.now() - started} ms`)
// README_BLOCKS_KEEP=1 keeps the generated project for debugging (its path is printed).
if (process.env.README_BLOCKS_KEEP === '1') t.comment(`generated project: ${project.dir}`)
else t.teardown(project.cleanup)
// Independent processes, three at a time: most of a block's time is Node loading s3db.js and waiting on sockets.
const results = pool(project.generated.map((g) => async () => await runBlock(project.dir, g)), 3)

t.test('the harness type-checks', async (t) => {
  t.same(project.diagnostics.get('harness.ts') ?? [], [])
})

t.test('every spec names a block that exists (no stale allow-list entries)', async (t) => {
  const ids = new Set(blocks.map((b) => b.id))
  for (const id of [...Object.keys(RUN), ...Object.keys(BASH), ...Object.keys(CHECKS)]) t.ok(ids.has(id), id)
})

for (const [index, generated] of project.generated.entries()) {
  const { block } = generated
  t.test(`${block.lang} block "${block.id}" (${block.file}:${block.line}) type-checks and runs`, async (t) => {
    t.same(project.diagnostics.get(block.id) ?? [], [], 'no compiler errors')
    const result = await results[index]
    if (result === undefined) throw new Error('no result')
    const ok = result.code === 0 && result.output.includes('README-BLOCK-DONE')
    t.ok(ok, `ran to the end (exit ${String(result.code ?? result.signal)}${result.timedOut ? ', timed out' : ''})`, ok ? {} : { output: result.output.slice(-4000) })
  })
}

for (const block of blocks.filter((b) => !runnable.includes(b))) {
  t.test(`${block.lang || 'plain'} block "${block.id}" (${block.file}:${block.line})`, async (t) => {
    const check = CHECKS[block.id]
    if (check !== undefined) { await check(t, block, blocks); return }
    if (block.lang === 'json') { t.doesNotThrow(() => JSON.parse(block.code), 'parses'); return }
    const decision = BASH[block.id]
    if (decision === undefined) { t.fail(`no decision for this ${block.lang || 'plain'} block: run it or allow-list it (with a reason) in BASH`); return }
    if ('skip' in decision) { t.pass(`not run: ${decision.skip}`); return }
    if (decision.run === 'cli') await runCliBlock(t, block, blocks)
    else await runClusterBlock(t, block)
  })
}

/**
 * The CLI block, command by command: `npx s3db-realtime` is this repository's built CLI, the
 * MinIO connection string a file:// bucket holding the resources it names, PORT a free port.
 * `--config realtime.json` reads the config block that follows it, with the connection string,
 * port and host overridden by the environment as the docs say they may be.
 */
async function runCliBlock (t: Test, block: ReadmeBlock, all: ReadmeBlock[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 's3db-readme-cli-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const config = all[all.indexOf(block) + 1]
  if (config?.lang !== 'json' || config.file !== block.file) throw new Error('the CLI block is no longer followed by its config block')
  await writeFile(join(dir, 'realtime.json'), config.code)
  const bucket = `file://${join(dir, 'bucket')}`
  const db = new Database({ connectionString: bucket, logLevel: 'silent' })
  await db.connect()
  await db.createResource({ name: 'messages', attributes: { content: 'string|required', channel: 'string|required' } })
  await db.createResource({ name: 'users', attributes: { name: 'string|required', password: 'string|optional' } })
  await db.disconnect()
  const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }
  const commands = block.code.replace(/\\\n/g, ' ').split('\n').filter((line) => line.trim() !== '')
  t.equal(commands.length, 3, 'three commands')
  for (const command of commands) {
    const line = command
      .replace(/'http:\/\/minioadmin:minioadmin@localhost:9000\/app'/, `'${bucket}'`)
      .replace(/\bPORT=\d+/, 'PORT=0')
      .replace('npx s3db-realtime', `exec ${process.execPath} ${join(ROOT, 'dist/bin/cli.js')}`)
    const env = { ...process.env, S3DB_CONNECTION_STRING: 'memory://readme-cli/app', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' }
    const child = spawn('bash', ['-c', line], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
    let output = ''
    const exited = new Promise<number | null>((resolve) => { child.on('close', (code) => { resolve(code) }) })
    const ready = new Promise<void>((resolve) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString()
        if (output.includes('s3db-realtime ready')) resolve()
      }
      child.stdout.on('data', onData)
      child.stderr.on('data', onData)
    })
    if (command.includes('--version')) {
      t.equal(await exited, 0, `${command}: exits 0`)
      t.equal(output.trim(), version, 'prints the version')
      continue
    }
    const first = await Promise.race([ready.then(() => 'ready'), exited.then((code) => `exited ${String(code)}`)])
    t.equal(first, 'ready', `${command}: starts`, { output: output.slice(-2000) })
    t.match(output, /"resources":\["messages","users"\]/, 'serving both resources')
    child.kill('SIGTERM')
    t.equal(await exited, 0, 'stops cleanly on SIGTERM')
  }
}

/**
 * The two-instance "Try it": the commands up to the `# subscribe on …` comment start Redis and two
 * instances (on free ports, a temporary DATA_DIR, REDIS_URL pointing at that Redis; `npm run
 * build` is skipped: the suite runs after it). Then this test does what the comment says —
 * subscribes on the second instance — and runs the remaining command (the curl write through the
 * first): the event must arrive.
 */
async function runClusterBlock (t: Test, block: ReadmeBlock): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 's3db-readme-cluster-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const [redisPort, first, second] = [await freePort(), await freePort(), await freePort()]
  const lines = block.code.split('\n')
  const pause = lines.findIndex((line) => line.startsWith('# subscribe on'))
  t.ok(pause > 0, 'the block still says where to subscribe')
  const ports = (line: string): string => line.replace(/\b3001\b/g, String(first)).replace(/\b3002\b/g, String(second))
  const start = lines.slice(0, pause).map((line) => ports(line)
    .replace('--port 6379', `--port ${redisPort} --bind 127.0.0.1`)
    .replace(/^npm run build$/, 'true')
    .replace(/\/tmp\/s3db-cluster/g, join(dir, 'bucket')))
  const env = { ...process.env, REDIS_URL: `redis://127.0.0.1:${redisPort}`, HOST: '127.0.0.1', LOG_LEVEL: 'warn' }
  // Its own process group, so the background jobs go with it at the end.
  const shell = spawn('bash', ['-c', [...start, 'wait'].join('\n')], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  shell.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  shell.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  t.teardown(() => { try { process.kill(-(shell.pid ?? 0), 'SIGKILL') } catch {} })
  for (const port of [first, second]) {
    const deadline = Date.now() + 30_000
    while ((await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.status, () => 0)) !== 200) {
      if (Date.now() > deadline || shell.exitCode !== null) throw new Error(`instance on ${port} never got ready:\n${output}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
  const { client } = await connect(`ws://127.0.0.1:${second}/ws`)
  t.teardown(() => { client.close() })
  t.equal((await client.request({ type: 'subscribe', resource: 'messages' })).type, 'subscribed', 'subscribed on the second instance')
  const write = lines.slice(pause + 1).map((line) => ports(line).replace(/^curl /, 'curl -sSf ')).join('\n')
  const curl = spawn('bash', ['-c', write], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let written = ''
  curl.stdout.on('data', (chunk: Buffer) => { written += chunk.toString() })
  curl.stderr.on('data', (chunk: Buffer) => { written += chunk.toString() })
  t.equal(await new Promise((resolve) => curl.on('close', resolve)), 0, 'the write succeeds', { written })
  const event = await client.waitType('event', 10_000)
  t.match(event, { event: 'insert', resource: 'messages', data: { content: 'hi', channel: 'general' } }, 'and reaches the subscriber on the other instance')
}
