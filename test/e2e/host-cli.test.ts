import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { connect } from '../helpers/client.js'
import { hsToken } from '../helpers/jwt.js'
import { spawnTs } from '../helpers/spawn.js'

const CLI = 'src/bin/cli.ts'

async function configFile (t: Test, config: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 's3db-realtime-host-cli-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'realtime.json')
  await writeFile(file, JSON.stringify(config))
  return file
}

/** The README's config-file example, as it should read (`users` created too). */
const README_CONFIG = {
  connectionString: 'http://minioadmin:minioadmin@localhost:9000/app',
  port: 3001,
  host: '0.0.0.0',
  path: '/ws',
  logLevel: 'info',
  jwtSecret: 'change-me',
  authRequired: true,
  database: { clientOptions: { httpClientOptions: { useReckerHandler: false } } },
  createResources: [
    { name: 'messages', attributes: { content: 'string|required', channel: 'string|required' } },
    { name: 'users', attributes: { name: 'string|required', password: 'string|optional' } }
  ],
  resources: { messages: true, users: { protected: ['password'] } },
  options: { maxConnections: 10000, backpressure: { policy: 'drop' } },
  shutdownDelay: 10000
}

// No MinIO here: the environment overrides the connection string, port and host, as the README says it may.
const LOCAL = { S3DB_CONNECTION_STRING: 'memory://host-cli/app', PORT: '0', HOST: '127.0.0.1', S3DB_REALTIME_RESOURCES: '' }

t.test('--version prints the package version and exits 0', async (t) => {
  const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  for (const flag of ['--version', '-v']) {
    const run = await spawnTs(t, CLI, [flag], {}, false)
    t.equal((await run.exited).code, 0, flag)
    t.same(run.lines, [version], `${flag} prints only the version`)
  }
  const help = await spawnTs(t, CLI, ['--help'], {}, false)
  t.equal((await help.exited).code, 0)
  t.match(help.lines.join('\n'), /--version/, 'and --help mentions it')
})

t.test("the README's config-file example starts, serves both resources, and stops on SIGTERM", async (t) => {
  const file = await configFile(t, README_CONFIG)
  const server = await spawnTs(t, CLI, ['--config', file], LOCAL)
  const ready = JSON.parse(await server.waitLine('s3db-realtime ready')) as { resources: string[] }
  t.same(ready.resources, ['messages', 'users'])
  const ws = server.base.replace(/^http:/, 'ws:') + '/ws'
  const { client } = await connect(`${ws}?token=${hsToken({ sub: 'u1', id: 'u1' }, { secret: 'change-me' })}`)
  const inserted = await client.request({ type: 'insert', resource: 'users', data: { name: 'Ann' } })
  t.equal(inserted.type, 'inserted', JSON.stringify(inserted))
  const refused = await client.request({ type: 'insert', resource: 'users', data: { name: 'Bob', password: 'secret' } })
  t.equal(refused.code, 'FORBIDDEN', 'users.protected applies')
  t.equal((await fetch(`${server.base}/health/ready`)).status, 200, 'health is on in the CLI server')
  t.equal((await fetch(`${server.base}/metrics`)).status, 200, 'and metrics')
  server.child.kill('SIGTERM')
  t.equal((await server.exited).code, 0)
})

t.test('a resource with nothing to create it from exits 2 and points at createResources', async (t) => {
  // The README's example as it used to read: `users` exposed, never created.
  const file = await configFile(t, { ...README_CONFIG, createResources: README_CONFIG.createResources.slice(0, 1) })
  const run = await spawnTs(t, CLI, ['--config', file], LOCAL, false)
  t.equal((await run.exited).code, 2)
  const output = run.lines.join('\n')
  t.match(output, /S3DB_REALTIME_UNKNOWN_RESOURCE|Resource "users"/)
  t.match(output, /"createResources"/, 'says where the fix goes')
})
