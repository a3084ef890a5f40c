import t from 'tap'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Fastify from 'fastify'
import s3dbRealtime from '../../src/index.js'
import { buildApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'
import { createDatabase } from '../helpers/db.js'

// `app.realtime` offers exactly what docs/api.md documents: its methods table and its events.

const ROOT = resolve(import.meta.dirname, '../..')
const api = readFileSync(join(ROOT, 'docs/api.md'), 'utf8')

/** Method names in the first column of the `| method | returns |` table. */
function documentedMethods (): string[] {
  const table = api.slice(api.indexOf('| method | returns |'))
  const rows = table.split('\n').filter((line) => line.startsWith('| `'))
  const names = rows.flatMap((row) => [...(row.split('|')[1] as string).matchAll(/`([A-Za-z]+)/g)].map((m) => m[1] as string))
  return [...names, 'on', 'once', 'off'].sort()
}

/** Event names in the "Events (`app.realtime.on(...)`)" paragraph. */
function documentedEvents (): string[] {
  const paragraph = api.slice(api.indexOf('Events (`app.realtime.on'), api.indexOf('\n\n', api.indexOf('Events (`app.realtime.on')))
  return [...paragraph.matchAll(/`([a-z]+\.[a-z]+)`/g)].map((m) => m[1] as string).sort()
}

t.test('app.realtime has the documented methods and nothing else', async (t) => {
  const { app } = await buildApp(t)
  const realtime = app.realtime as unknown as Record<string, unknown>
  const members = new Set<string>(Object.keys(realtime))
  for (let proto = Object.getPrototypeOf(realtime) as object | null; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const name of Object.getOwnPropertyNames(proto)) if (name !== 'constructor') members.add(name)
  }
  const documented = documentedMethods()
  t.ok(documented.length >= 18, 'the table was read')
  t.same([...members].sort(), documented)
})

t.test('every documented event is emitted to app.realtime listeners', async (t) => {
  const events = documentedEvents()
  t.same(events, ['channel.joined', 'channel.left', 'client.connected', 'client.disconnected', 'plugin.started', 'server.started', 'server.stopped'])
  const app = Fastify({ logger: false })
  await app.register(s3dbRealtime, { database: await createDatabase(t), resources: { messages: true } })
  const seen = new Set<string>()
  for (const event of events) app.realtime.on(event as 'server.stopped', () => { seen.add(event) })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { client: ws } = await connect(`ws://127.0.0.1:${(app.server.address() as { port: number }).port}/ws`)
  await ws.request({ type: 'join', channel: 'lobby' })
  await ws.request({ type: 'leave', channel: 'lobby' })
  ws.close()
  await ws.closed
  await app.close()
  t.same([...seen].sort(), events)
})
