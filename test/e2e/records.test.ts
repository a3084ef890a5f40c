import t from 'tap'
import { buildApp } from '../helpers/app.js'

t.test('get / insert / update / delete over the socket, with protected fields stripped', async (t) => {
  const { client, db } = await buildApp(t, { resources: { messages: true, users: { writeOnly: ['password', 'email'] } } })
  const ws = await client()
  const inserted = await ws.request({ type: 'insert', resource: 'users', data: { id: 'u1', name: 'Ann', email: 'a@x', password: 'pw' } })
  t.equal(inserted.type, 'inserted')
  t.equal(inserted.resource, 'users')
  t.same(Object.keys(inserted.data).sort(), ['id', 'name'])

  const got = await ws.request({ type: 'get', resource: 'users', id: 'u1' })
  t.equal(got.type, 'data')
  t.same(got.data, { id: 'u1', name: 'Ann' })

  const updated = await ws.request({ type: 'update', resource: 'users', id: 'u1', data: { name: 'Annie', password: 'pw2' } })
  t.equal(updated.type, 'updated')
  t.same(updated.data, { id: 'u1', name: 'Annie' })

  const stored = await (db.resources.users as any).get('u1')
  t.equal(stored.password, 'pw2', 'the stored record keeps its protected field (never mutated)')
  t.equal(stored.email, 'a@x')

  const deleted = await ws.request({ type: 'delete', resource: 'users', id: 'u1' })
  t.same({ type: deleted.type, resource: deleted.resource, id: deleted.id }, { type: 'deleted', resource: 'users', id: 'u1' })
  t.equal(await (db.resources.users as any).exists('u1'), false)

  const missing = await ws.request({ type: 'get', resource: 'users', id: 'u1' })
  t.same([missing.type, missing.code], ['error', 'NOT_FOUND'])
  const missingUpdate = await ws.request({ type: 'update', resource: 'users', id: 'nope', data: { name: 'x' } })
  t.equal(missingUpdate.code, 'NOT_FOUND')
  const missingDelete = await ws.request({ type: 'delete', resource: 'users', id: 'nope' })
  t.equal(missingDelete.code, 'NOT_FOUND')
})

t.test('protected dot paths and s3db internals never leave the server, in any message', async (t) => {
  const { client, db } = await buildApp(t, { resources: { messages: { writeOnly: ['meta.secret', 'author'] }, users: true } })
  const watcher = await client()
  await watcher.request({ type: 'subscribe', resource: 'messages' })
  const ws = await client()
  const inserted = await ws.request({ type: 'insert', resource: 'messages', data: { id: 'm1', content: 'hi', channel: 'c', author: 'ann', meta: { kind: 'k', secret: 's' } } })
  const event = await watcher.waitType('event')
  const listed = await ws.request({ type: 'list', resource: 'messages' })
  const got = await ws.request({ type: 'get', resource: 'messages', id: 'm1' })
  const updated = await ws.request({ type: 'update', resource: 'messages', id: 'm1', data: { content: 'yo' } })
  const updateEvent = await watcher.waitFor((m) => m.type === 'event' && m.event === 'update')
  for (const [label, record] of [['inserted', inserted.data], ['event', event.data], ['list', listed.data[0]], ['get', got.data], ['updated', updated.data], ['update event', updateEvent.data]] as const) {
    t.notOk('author' in record, `${label}: protected top-level field removed`)
    t.same(record.meta, { kind: 'k' }, `${label}: protected nested field removed, sibling kept`)
    t.notOk(Object.keys(record).some((k: string) => k.startsWith('_') || k.startsWith('$')), `${label}: no s3db internals`)
  }
  const stored = await (db.resources.messages as any).get('m1')
  t.equal(stored.author, 'ann')
  t.equal(stored.meta.secret, 's', 'stored nested record not mutated')
})

t.test('validation failures become VALIDATION_ERROR with field details; internal errors leak nothing', async (t) => {
  const { client, db } = await buildApp(t)
  const ws = await client()
  const bad = await ws.request({ type: 'insert', resource: 'messages', data: { content: 5 } })
  t.equal(bad.code, 'VALIDATION_ERROR')
  t.ok(Array.isArray(bad.details))
  const fields = bad.details.map((d: { field: string }) => d.field).sort()
  t.ok(fields.includes('content') && fields.includes('channel'), 'details name the failing fields')

  ;(db.resources.messages as any).addHook('beforeInsert', async () => { throw new Error('db password is hunter2 at /srv/secret') })
  const broken = await ws.request({ type: 'insert', resource: 'messages', data: { content: 'x', channel: 'c' } })
  t.equal(broken.code, 'INTERNAL_ERROR')
  t.notMatch(JSON.stringify(broken), /hunter2|\/srv|at /, 'no internal message or stack')
  const pong = await ws.request({ type: 'ping' })
  t.equal(pong.type, 'pong', 'socket still usable')
})

t.test('list: filter, default and capped limit, cursor paging without duplicates or gaps', async (t) => {
  const { client, db } = await buildApp(t, { defaultListLimit: 10, maxListLimit: 25 })
  const messages = db.resources.messages as any
  const all: string[] = []
  for (let i = 0; i < 60; i++) {
    const id = `m${String(i).padStart(3, '0')}`
    all.push(id)
    await messages.insert({ id, content: `c${i}`, channel: i % 3 === 0 ? 'three' : 'other' })
  }
  const ws = await client()
  const first = await ws.request({ type: 'list', resource: 'messages' })
  t.equal(first.data.length, 10, 'default limit')
  t.type(first.cursor, 'string')
  const capped = await ws.request({ type: 'list', resource: 'messages', limit: 1000 })
  t.equal(capped.data.length, 25, 'limit capped at maxListLimit')

  const seen: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const page: Record<string, any> = await ws.request({ type: 'list', resource: 'messages', limit: 7, cursor })
    seen.push(...page.data.map((r: { id: string }) => r.id))
    cursor = page.cursor
    pages++
  } while (cursor !== null && pages < 50)
  t.same(seen, all, 'every record exactly once, in order')

  const filtered: string[] = []
  cursor = null
  pages = 0
  do {
    const page: Record<string, any> = await ws.request({ type: 'list', resource: 'messages', filter: { content: 'c3' }, limit: 5, cursor })
    filtered.push(...page.data.map((r: { id: string }) => r.id))
    cursor = page.cursor
    pages++
  } while (cursor !== null && pages < 50)
  t.same(filtered, ['m003'])

  t.equal(first.cursor, 'm009', 'the cursor is the last id of the page, as in the seed')
  const fromId = await ws.request({ type: 'list', resource: 'messages', cursor: 'm057' })
  t.same(fromId.data.map((r: { id: string }) => r.id), ['m058', 'm059'], 'a cursor given as an id resumes after it')
  t.equal(fromId.cursor, null)
  const bad = await ws.request({ type: 'list', resource: 'messages', cursor: '../x' })
  t.equal(bad.code, 'INVALID_REQUEST')
})

t.test('a filter that covers a partition lists that partition instead of scanning', async (t) => {
  const { client, db } = await buildApp(t)
  const messages = db.resources.messages as any
  for (let i = 0; i < 20; i++) await messages.insert({ id: `m${String(i).padStart(2, '0')}`, content: 'x', channel: i < 5 ? 'small' : 'big' })
  const prefixes: string[] = []
  const original = messages.client.listObjects.bind(messages.client)
  messages.client.listObjects = async (params: { prefix: string }) => { prefixes.push(params.prefix); return await original(params) }
  t.teardown(() => { messages.client.listObjects = original })
  const ws = await client()
  const page = await ws.request({ type: 'list', resource: 'messages', filter: { channel: 'small' } })
  t.same(page.data.map((r: { id: string }) => r.id), ['m00', 'm01', 'm02', 'm03', 'm04'])
  t.equal(page.cursor, null)
  t.ok(prefixes.length > 0 && prefixes.every((p) => p.includes('partition=byChannel/channel=small')), 'only the partition prefix was listed')

  const named = await ws.request({ type: 'list', resource: 'messages', partition: 'byChannel', filter: { channel: 'big' }, limit: 100 })
  t.equal(named.data.length, 15)
  const unknown = await ws.request({ type: 'list', resource: 'messages', partition: 'nope' })
  t.equal(unknown.code, 'INVALID_REQUEST')
})

t.test('a partition named without its values lists every record; update/delete accept a partition', async (t) => {
  const { client, db } = await buildApp(t)
  const messages = db.resources.messages as any
  await messages.insert({ id: 'a', content: 'x', channel: 'one' })
  await messages.insert({ id: 'b', content: 'y', channel: 'two' })
  const ws = await client()
  const page = await ws.request({ type: 'list', resource: 'messages', partition: 'byChannel' })
  t.same(page.data.map((r: { id: string }) => r.id), ['a', 'b'])
  const updated = await ws.request({ type: 'update', resource: 'messages', id: 'a', partition: 'byChannel', data: { content: 'z' } })
  t.equal(updated.type, 'updated')
  const deleted = await ws.request({ type: 'delete', resource: 'messages', id: 'b', partition: 'byChannel' })
  t.equal(deleted.type, 'deleted')
})
