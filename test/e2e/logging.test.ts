import { Writable } from 'node:stream'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import s3dbRealtime, { type RealtimeOptions } from '../../src/index.js'
import { connect } from '../helpers/client.js'
import { createDatabase } from '../helpers/db.js'

type Line = Record<string, any>

/** An app whose log lines are captured as parsed JSON. */
async function appWithLogs (t: Test, appLevel: string, options: Partial<RealtimeOptions>): Promise<{ url: string, lines: Line[], raw: string[] }> {
  const lines: Line[] = []
  const raw: string[] = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString().split('\n').filter(Boolean)) {
        raw.push(text)
        lines.push(JSON.parse(text) as Line)
      }
      callback()
    }
  })
  const db = await createDatabase(t)
  const app = Fastify({ logger: { level: appLevel, stream } })
  await app.register(s3dbRealtime, { database: db, resources: { messages: true, users: { protected: ['password'] } }, ...options })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  return { url: `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/ws`, lines, raw }
}

t.test('logLevel debug: one line per handled message with clientId and type, never the payload', async (t) => {
  const { url, lines, raw } = await appWithLogs(t, 'info', { logLevel: 'debug' })
  const { client, connected } = await connect(url)
  t.teardown(() => { client.close() })
  await client.request({ type: 'ping' })
  await client.request({ type: 'subscribe', resource: 'users' })
  await client.request({ type: 'insert', resource: 'users', data: { name: 'Ann', password: 'hunter2-secret' } })
  await client.request({ type: 'nope' })

  const handled = lines.filter((l) => l.msg === 'realtime: message')
  t.same(handled.map((l) => l.type), ['ping', 'subscribe', 'insert'], 'each handled type is logged, in order')
  for (const line of handled) {
    t.equal(line.clientId, connected.clientId, 'the per-connection child logger carries clientId')
    t.equal(line.level, 20, 'at debug level')
    t.notOk('data' in line || 'message' in line, 'no payload fields')
  }
  t.notOk(raw.some((text) => text.includes('hunter2-secret')), 'the secret never reaches the log')
})

t.test('logLevel warn silences the plugin debug lines even when the app logs at debug', async (t) => {
  const { url, lines } = await appWithLogs(t, 'debug', { logLevel: 'warn' })
  const { client } = await connect(url)
  t.teardown(() => { client.close() })
  await client.request({ type: 'ping' })
  await client.request({ type: 'subscribe', resource: 'messages' })
  t.equal(lines.filter((l) => l.msg === 'realtime: message').length, 0)
})

t.test('without logLevel the plugin follows the app level', async (t) => {
  const { url, lines } = await appWithLogs(t, 'debug', {})
  const { client } = await connect(url)
  t.teardown(() => { client.close() })
  await client.request({ type: 'ping' })
  t.equal(lines.filter((l) => l.msg === 'realtime: message' && l.type === 'ping').length, 1)
})

t.test('an invalid logLevel is refused', async (t) => {
  await t.rejects(appWithLogs(t, 'info', { logLevel: 'loud' as never }), { code: 'S3DB_REALTIME_INVALID_OPTION' })
})
