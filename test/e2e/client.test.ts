import type { Test } from 'tap'
import t from 'tap'
import { RealtimeClient, RealtimeError, createClient, type SubscriptionEvent } from '../../src/client/index.js'
import { buildApp } from '../helpers/app.js'

interface Message { content: string, channel: string, author?: string, meta?: { kind?: string, secret?: string } }
interface User { name: string, email?: string, role?: string }
type Records = { messages: Message, users: User }

function clientFor (t: Test, url: string, options: Partial<ConstructorParameters<typeof RealtimeClient>[0]> = {}): RealtimeClient<Records> {
  const client = createClient<Records>({ url, requestTimeout: 5000, ...options })
  t.teardown(() => { client.close() })
  return client
}

async function rejection (promise: Promise<unknown>): Promise<RealtimeError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof RealtimeError) return error
    throw error
  }
  throw new Error('expected a rejection')
}

t.test('CRUD over the socket with typed results; list pages through an async iterator', async (t) => {
  const { url } = await buildApp(t)
  const client = clientFor(t, url)
  const created = await client.insert('messages', { content: 'hello', channel: 'general', author: 'ann' })
  t.type(created.id, 'string')
  t.equal(created.content, 'hello')
  t.equal(client.state, 'open', 'the first request opened the connection')

  const read = await client.get('messages', created.id)
  t.equal(read.author, 'ann')
  const updated = await client.update('messages', created.id, { content: 'edited' })
  t.equal(updated.content, 'edited')

  for (let i = 0; i < 4; i++) await client.insert('messages', { content: `m${i}`, channel: 'paged' })
  const pages: string[][] = []
  for await (const page of client.list('messages', { filter: { channel: 'paged' }, limit: 3 })) {
    pages.push(page.data.map((m) => m.content))
  }
  t.equal(pages.length, 2, 'two pages of at most 3')
  t.same(pages.flat().sort(), ['m0', 'm1', 'm2', 'm3'])
  const all = await client.listAll('messages', { filter: { channel: 'paged' }, limit: 1 })
  t.equal(all.length, 4, 'listAll follows every cursor')

  await client.delete('messages', created.id)
  const gone = await rejection(client.get('messages', created.id))
  t.equal(gone.code, 'NOT_FOUND')
})

t.test('server errors become RealtimeError with the protocol code; the connection stays usable', async (t) => {
  const { url } = await buildApp(t)
  const client = clientFor(t, url)
  const unknown = await rejection(client.get('nope' as 'messages', 'x'))
  t.ok(unknown instanceof RealtimeError)
  t.equal(unknown.code, 'RESOURCE_NOT_FOUND')
  t.type(unknown.requestId, 'string')

  const invalid = await rejection(client.insert('messages', { channel: 'general' } as Message))
  t.equal(invalid.code, 'VALIDATION_ERROR')

  const badLimit = await rejection(client.listPage('messages', { limit: 0 }))
  t.equal(badLimit.code, 'INVALID_REQUEST')
  t.match(badLimit.details, { field: '/limit' }, 'details say which field')

  const ok = await client.insert('messages', { content: 'still works', channel: 'general' })
  t.equal(ok.content, 'still works')
})

t.test('subscribe delivers matching changes to the right handler and unsubscribe stops them', async (t) => {
  const { url, db } = await buildApp(t)
  const client = clientFor(t, url)
  const general: Array<SubscriptionEvent<Message & { id: string }>> = []
  const random: Array<SubscriptionEvent<Message & { id: string }>> = []
  const stopGeneral = await client.subscribe('messages', { filter: { channel: 'general' } }, (e) => general.push(e))
  await client.subscribe('messages', { filter: { channel: 'random' }, events: ['insert'] }, (e) => random.push(e))

  const messages = db.resources.messages!
  await messages.insert({ id: 'g1', content: 'a', channel: 'general' })
  await messages.insert({ id: 'r1', content: 'b', channel: 'random' })
  await messages.update('g1', { content: 'a2' })
  await messages.update('r1', { content: 'b2' })
  // A round trip after the writes: every event the server sent before its reply has been handled.
  await client.get('messages', 'g1')

  t.same(general.map((e) => e.event === 'snapshot' || e.event === 'reset' ? e.event : `${e.event}:${e.data.id}`), ['insert:g1', 'update:g1'])
  t.same(random.map((e) => e.event === 'snapshot' || e.event === 'reset' ? e.event : `${e.event}:${e.data.id}`), ['insert:r1'], 'events option narrows to inserts')

  await stopGeneral()
  await messages.insert({ id: 'g2', content: 'c', channel: 'general' })
  await messages.insert({ id: 'r2', content: 'd', channel: 'random' })
  await client.get('messages', 'g2')
  t.equal(general.length, 2, 'no events after unsubscribe')
  t.equal(random.length, 2, 'the other subscription keeps going')
})

t.test('a subscription the server refuses rejects with its code', async (t) => {
  const { url } = await buildApp(t)
  const client = clientFor(t, url)
  const error = await rejection(client.subscribe('ghosts' as 'messages', {}, () => {}))
  t.equal(error.code, 'RESOURCE_NOT_FOUND')
})

t.test('client options are validated up front', async (t) => {
  t.throws(() => createClient({ url: 'http://x' }), /ws:\/\/ or wss:\/\//)
  t.throws(() => createClient({ url: 'ws://x', requestTimeout: -1 }), /requestTimeout/)
  t.throws(() => createClient({ url: 'ws://x', reconnect: { factor: 0.5 } }), /reconnect\.factor/)
  t.throws(() => createClient({ url: 'ws://x', token: 42 as unknown as string }), /token/)
})

t.test('snapshot: true starts with every matching record, then only later changes', async (t) => {
  const { url, db } = await buildApp(t)
  const messages = db.resources.messages!
  await messages.insert({ id: 'old1', content: 'before', channel: 'general' })
  await messages.insert({ id: 'other', content: 'elsewhere', channel: 'random' })
  const client = clientFor(t, url)
  const events: Array<SubscriptionEvent<Message & { id: string }>> = []
  await client.subscribe('messages', { filter: { channel: 'general' }, snapshot: true }, (e) => events.push(e))
  await messages.insert({ id: 'new1', content: 'after', channel: 'general' })
  await client.get('messages', 'new1')
  t.equal(events.length, 2)
  const [snapshot, insert] = events
  t.same(snapshot?.event === 'snapshot' ? snapshot.data.map((r) => r.id) : null, ['old1'])
  t.same(insert?.event === 'insert' ? insert.data.id : null, 'new1')
})

t.test('an update that moves a record out of the filter arrives with left: true', async (t) => {
  const { url, db } = await buildApp(t)
  const messages = db.resources.messages!
  const client = clientFor(t, url)
  const events: Array<SubscriptionEvent<Message & { id: string }>> = []
  await client.subscribe('messages', { filter: { channel: 'a' } }, (e) => events.push(e))
  await messages.insert({ id: 'm', content: 'x', channel: 'a' })
  await messages.update('m', { channel: 'b' })
  await client.get('messages', 'm')
  t.same(events.map((e) => e.event === 'update' ? `${e.event}:${String(e.left)}` : e.event), ['insert', 'update:true'])
})

/** Compile-time checks of the typed API: each line below must fail to type-check. */
export function typeChecks (client: RealtimeClient<Records>): void {
  // @ts-expect-error unknown resource for a typed client
  void client.get('nope', 'id')
  // @ts-expect-error content must be a string
  void client.insert('messages', { content: 1, channel: 'c' })
  // @ts-expect-error update data is a partial of the record type
  void client.update('users', 'id', { name: 42 })
  void client.subscribe('messages', {}, (event) => {
    // @ts-expect-error records of `messages` have no `email`
    if (event.event === 'insert') void event.data.email
  })
}

t.test('a handler that throws is reported as LISTENER_ERROR and the stream goes on', async (t) => {
  const { url, db } = await buildApp(t)
  const messages = db.resources.messages!
  const client = clientFor(t, url)
  const errors: RealtimeError[] = []
  client.on('error', (e) => errors.push(e))
  const ids: string[] = []
  await client.subscribe('messages', {}, (e) => {
    if (e.event !== 'insert') return
    ids.push(e.data.id)
    if (e.data.id === 'boom') throw new Error('app bug')
  })
  await messages.insert({ id: 'boom', content: 'x', channel: 'c' })
  await messages.insert({ id: 'fine', content: 'y', channel: 'c' })
  await client.get('messages', 'fine')
  t.same(ids, ['boom', 'fine'])
  t.equal(errors.length, 1)
  t.equal(errors[0]?.code, 'LISTENER_ERROR')
  t.match(String((errors[0]?.details as Error).message), 'app bug')
})
