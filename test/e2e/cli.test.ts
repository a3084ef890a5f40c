import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSigner } from 'fast-jwt'
import t from 'tap'
import { connect } from '../helpers/client.js'
import { spawnTs } from '../helpers/spawn.js'
import { tryUpgrade } from '../helpers/upgrade.js'
import { ConfigError, loadConfig } from '../../src/bin/config.js'
import { startServer } from '../../src/bin/server.js'

const CLI = 'src/bin/cli.ts'
const SECRET = 'cli-test-secret-that-is-long-enough'

const MESSAGES = {
  name: 'messages',
  attributes: { content: 'string|required', channel: 'string|required' },
  timestamps: true
}

async function configFile (t: Parameters<typeof spawnTs>[0], config: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 's3db-realtime-cli-'))
  const file = join(dir, 'config.json')
  await writeFile(file, typeof config === 'string' ? config : JSON.stringify(config))
  t.teardown(async () => { const { rm } = await import('node:fs/promises'); await rm(dir, { recursive: true, force: true }) })
  return file
}

t.test('starts from a config file: JWT auth, resources, health, metrics; SIGTERM drains and exits 0', async (t) => {
  const file = await configFile(t, {
    connectionString: 'memory://cli-test/db',
    port: 0,
    host: '127.0.0.1',
    jwtSecret: SECRET,
    authRequired: true,
    createResources: [MESSAGES],
    resources: { messages: true },
    options: { maxConnections: 10 }
  })
  const server = await spawnTs(t, CLI, ['--config', file], { LOG_LEVEL: 'info' })
  const ready = JSON.parse(await server.waitLine('s3db-realtime ready')) as { url: string, resources: string[] }
  t.same(ready.resources, ['messages'])
  const ws = server.base.replace(/^http:/, 'ws:') + '/ws'

  t.equal((await tryUpgrade(ws)).status, 401, 'authRequired: no token, no socket')

  const token = createSigner({ key: SECRET })({ sub: 'u1', id: 'u1', role: 'user' })
  const { client, connected } = await connect(`${ws}?token=${token}`)
  t.equal(connected.user.id, 'u1', 'the JWT identifies the client')
  await client.request({ type: 'subscribe', resource: 'messages' })
  const inserted = await client.request({ type: 'insert', resource: 'messages', data: { content: 'from the cli', channel: 'general' } })
  t.equal(inserted.type, 'inserted')
  const event = await client.waitType('event')
  t.equal(event.data.content, 'from the cli')

  t.equal((await fetch(`${server.base}/health/ready`)).status, 200)
  t.match(await (await fetch(`${server.base}/metrics`)).text(), /s3db_realtime_connections 1/)

  server.child.kill('SIGTERM')
  const closed = await client.closed
  t.equal(closed.code, 1001, 'clients are told the server is going away')
  t.equal(closed.reason, 'Server shutting down')
  const exit = await server.exited
  t.equal(exit.code, 0, 'clean exit')
  t.ok(server.lines.some((l) => l.includes('shutdown complete')), 'shutdown finished (s3db disconnected)')
})

t.test('environment variables configure (and override) the server', async (t) => {
  const file = await configFile(t, { connectionString: 'memory://ignored/db', port: 1, createResources: [MESSAGES] })
  const server = await spawnTs(t, CLI, [], {
    S3DB_REALTIME_CONFIG: file,
    S3DB_CONNECTION_STRING: 'memory://cli-env/db',
    S3DB_REALTIME_RESOURCES: 'messages',
    PORT: '0',
    HOST: '127.0.0.1',
    WS_PATH: '/live',
    LOG_LEVEL: 'info'
  })
  const { client } = await connect(server.base.replace(/^http:/, 'ws:') + '/live')
  t.teardown(() => { client.close() })
  const listed = await client.request({ type: 'list', resource: 'messages' })
  t.same(listed.data, [])
  server.child.kill('SIGTERM')
  t.equal((await server.exited).code, 0)
})

t.test('a configuration mistake exits 2 with a clear message', async (t) => {
  const run = await spawnTs(t, CLI, [], { S3DB_CONNECTION_STRING: '', S3DB_REALTIME_CONFIG: '', S3DB_REALTIME_RESOURCES: 'messages' }, false)
  t.equal((await run.exited).code, 2)
  t.match(run.lines.join('\n'), /no connection string/)
  t.match(run.lines.join('\n'), /Usage: s3db-realtime/)
})

t.test('every config mistake is a clear error (checked in-process)', async (t) => {
  const base = { S3DB_CONNECTION_STRING: 'memory://x/db', S3DB_REALTIME_RESOURCES: 'messages' }
  const envCases: Array<[string, Record<string, string>, RegExp]> = [
    ['no resources', { S3DB_CONNECTION_STRING: 'memory://x/db' }, /no resources to expose/],
    ['bad port', { ...base, PORT: 'eighty' }, /port must be an integer/],
    ['bad log level', { ...base, LOG_LEVEL: 'loud' }, /logLevel must be one of/],
    ['bad AUTH_REQUIRED', { ...base, AUTH_REQUIRED: 'yes' }, /authRequired must be true or false/],
    ['unknown config key', { ...base, S3DB_REALTIME_CONFIG: await configFile(t, { conectionString: 'typo' }) }, /unknown key "conectionString"/],
    ['invalid JSON', { ...base, S3DB_REALTIME_CONFIG: await configFile(t, '{ nope') }, /not valid JSON/],
    ['missing file', { ...base, S3DB_REALTIME_CONFIG: '/nonexistent/realtime.json' }, /cannot read config file/],
    ['bad createResources', { ...base, S3DB_REALTIME_CONFIG: await configFile(t, { createResources: [{ name: 'x' }] }) }, /createResources must be/]
  ]
  for (const [name, env, expected] of envCases) {
    await t.rejects(loadConfig(null, env), expected, name)
    await t.rejects(loadConfig(null, env), ConfigError)
  }
  const unknownResource = await loadConfig(null, { ...base, S3DB_REALTIME_RESOURCES: 'nope', PORT: '0', LOG_LEVEL: 'silent' })
  await t.rejects(startServer(unknownResource), { code: 'S3DB_REALTIME_UNKNOWN_RESOURCE' })
  const badOption = await loadConfig(null, { ...base, PORT: '0', LOG_LEVEL: 'silent', S3DB_REALTIME_CONFIG: await configFile(t, { createResources: [MESSAGES], options: { maxConnections: -1 } }) })
  await t.rejects(startServer(badOption), { code: 'S3DB_REALTIME_INVALID_OPTION' })
})
