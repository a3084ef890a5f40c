import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import s3dbRealtime, { type RealtimeOptions } from '../../src/index.js'
import { createClient, RealtimeError, type ConnectionState, type RealtimeClient, type SubscriptionEvent } from '../../src/client/index.js'
import { buildApp } from '../helpers/app.js'
import { createDatabase, type Db } from '../helpers/db.js'
import { partsOf } from '../helpers/hub.js'

interface Message { content: string, channel: string }
type Records = { messages: Message }
type Event = SubscriptionEvent<Message & { id: string }>

/** A promise the test resolves when it is ready: makes "while disconnected" deterministic. */
function gate (): { promise: Promise<void>, open: () => void } {
  let open = (): void => {}
  const promise = new Promise<void>((resolve) => { open = resolve })
  return { promise, open }
}

/** Resolves on the next `event` of the client (registered before the action that causes it). */
async function next<K extends 'open' | 'closed' | 'reconnecting' | 'error'> (client: RealtimeClient<Records>, event: K): Promise<void> {
  await new Promise<void>((resolve) => { const off = client.on(event, () => { off(); resolve() }) })
}

/**
 * Token provider that holds every connection attempt after the first until the test calls
 * `release()`; `attempted` resolves when a held attempt starts (the client is then offline).
 */
function heldReconnects (): { provider: () => Promise<null>, attempted: () => Promise<void>, release: () => void } {
  let calls = 0
  let hold = gate()
  let started = gate()
  return {
    provider: async () => {
      calls++
      if (calls > 1) {
        started.open()
        await hold.promise
      }
      return null
    },
    attempted: async () => { await started.promise },
    release: () => { hold.open(); hold = gate(); started = gate() }
  }
}

function describe (events: Event[]): string[] {
  return events.map((e) => e.event === 'reset' ? 'reset' : e.event === 'snapshot' ? `snapshot:${e.data.map((r) => r.id).sort().join(',')}` : `${e.event}:${e.data.id}${e.left === true ? ':left' : ''}`)
}

function killSockets (app: FastifyInstance): void {
  for (const connection of partsOf(app).hub.connections.values()) connection.socket.terminate()
}

t.test('after a dropped socket the subscription resumes from its seq: the missed events, in order, once', async (t) => {
  const { url, db, app } = await buildApp(t)
  const held = heldReconnects()
  const states: ConnectionState[] = []
  const client = createClient<Records>({ url, token: held.provider, reconnect: { initialDelay: 10, maxDelay: 50 } })
  t.teardown(() => { client.close() })
  client.on('state', (s) => states.push(s))
  const events: Event[] = []
  await client.subscribe('messages', { filter: { channel: 'general' } }, (e) => events.push(e))
  const messages = db.resources.messages!
  await messages.insert({ id: 'm1', content: 'one', channel: 'general' })
  await client.get('messages', 'm1')

  killSockets(app)
  await held.attempted()
  // Written while the client is offline.
  await messages.insert({ id: 'm2', content: 'two', channel: 'general' })
  await messages.insert({ id: 'x1', content: 'elsewhere', channel: 'random' })
  await messages.update('m1', { content: 'one, edited' })
  await messages.insert({ id: 'm3', content: 'three', channel: 'general' })
  const reopened = next(client, 'open')
  held.release()
  await reopened

  await messages.insert({ id: 'm4', content: 'four', channel: 'general' })
  await client.get('messages', 'm4')
  t.same(describe(events), ['insert:m1', 'insert:m2', 'update:m1', 'insert:m3', 'insert:m4'], 'no gap, no duplicate, in order')
  const seqs = events.map((e) => 'seq' in e ? e.seq : -1)
  t.same(seqs, [...seqs].sort((a, b) => a - b), 'seq increases')
  t.same(states, ['connecting', 'open', 'reconnecting', 'open'])
})

t.test('two subscriptions on one resource resume independently: each sees its missed events exactly once', async (t) => {
  const { url, db, app } = await buildApp(t)
  const held = heldReconnects()
  const client = createClient<Records>({ url, token: held.provider, reconnect: { initialDelay: 10 } })
  t.teardown(() => { client.close() })
  const narrow: Event[] = []
  const wide: Event[] = []
  await client.subscribe('messages', { filter: { channel: 'a' } }, (e) => narrow.push(e))
  await client.subscribe('messages', {}, (e) => wide.push(e))
  const messages = db.resources.messages!
  await messages.insert({ id: 'a0', content: 'x', channel: 'a' })
  await client.get('messages', 'a0')

  killSockets(app)
  await held.attempted()
  await messages.insert({ id: 'a1', content: 'x', channel: 'a' })
  await messages.insert({ id: 'b1', content: 'x', channel: 'b' })
  await messages.insert({ id: 'a2', content: 'x', channel: 'a' })
  const reopened = next(client, 'open')
  held.release()
  await reopened
  await messages.insert({ id: 'b2', content: 'x', channel: 'b' })
  await client.get('messages', 'b2')
  // Both replays carry a1 and a2; the connection must not hand them to a handler twice.
  t.same(describe(narrow), ['insert:a0', 'insert:a1', 'insert:a2'])
  t.same(describe(wide), ['insert:a0', 'insert:a1', 'insert:b1', 'insert:a2', 'insert:b2'])
})

t.test('a request sent before the drop fails DISCONNECTED; one made while offline waits and succeeds', async (t) => {
  const slow = gate()
  const { url, db, app } = await buildApp(t, {
    resources: { messages: { guard: { get: async () => { await slow.promise; return true } } }, users: true }
  })
  const held = heldReconnects()
  const client = createClient<Records>({ url, token: held.provider, reconnect: { initialDelay: 10 } })
  t.teardown(() => { client.close(); slow.open() })
  await db.resources.messages!.insert({ id: 'a', content: 'a', channel: 'c' })
  await client.connect()
  const inFlight = client.get('messages', 'a').then(() => null, (error: unknown) => error)
  // The get is written to the socket synchronously; the server's guard holds it unanswered.
  killSockets(app)
  const error = await inFlight
  t.ok(error instanceof RealtimeError)
  t.equal((error as RealtimeError).code, 'DISCONNECTED', 'outcome unknown, so the caller is told')

  await held.attempted()
  t.equal(client.state, 'reconnecting')
  const queued = client.insert('messages', { content: 'sent after reconnect', channel: 'c' })
  slow.open()
  held.release()
  const created = await queued
  t.equal(created.content, 'sent after reconnect')
  t.equal(client.state, 'open')
})

t.test('a request with no reply rejects TIMEOUT; a late reply is ignored and the socket stays usable', async (t) => {
  const slow = gate()
  const { url, db } = await buildApp(t, {
    resources: { messages: { guard: { get: async () => { await slow.promise; return true } } }, users: true }
  })
  const client = createClient<Records>({ url, requestTimeout: 200 })
  t.teardown(() => { client.close(); slow.open() })
  await db.resources.messages!.insert({ id: 'a', content: 'a', channel: 'c' })
  const error = await client.get('messages', 'a').then(() => null, (e: unknown) => e)
  t.ok(error instanceof RealtimeError)
  t.equal((error as RealtimeError).code, 'TIMEOUT')
  const errors: RealtimeError[] = []
  client.on('error', (e) => errors.push(e))
  slow.open() // the server now answers the timed-out get, then the next request
  const record = await client.get('messages', 'a')
  t.equal(record.content, 'a')
  t.equal(client.state, 'open')
  t.same(errors, [], 'the late reply is dropped quietly')
})

t.test('heartbeat: a socket that stops answering pings is closed and replaced', async (t) => {
  const stuck = gate()
  const { url, db } = await buildApp(t, {
    resources: { messages: { guard: { get: async () => { await stuck.promise; return true } } }, users: true }
  })
  await db.resources.messages!.insert({ id: 'a', content: 'a', channel: 'c' })
  const client = createClient<Records>({ url, requestTimeout: 300, heartbeatInterval: 100, reconnect: { initialDelay: 10 } })
  t.teardown(() => { client.close(); stuck.open() })
  await client.connect()
  const firstId = client.clientId
  const reconnecting = new Promise<{ reason: string }>((resolve) => { client.on('reconnecting', resolve) })
  // The server handles a socket's messages in order: while this get hangs, pings go unanswered.
  void client.get('messages', 'a').catch(() => {})
  const info = await reconnecting
  t.equal(info.reason, 'No reply to ping')
  await next(client, 'open')
  t.not(client.clientId, firstId, 'a fresh socket')
  stuck.open()
  t.equal((await client.get('messages', 'a')).content, 'a')
})

async function startServer (t: Test, db: Db, port: number, options: Partial<RealtimeOptions> = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(s3dbRealtime, { database: db, resources: { messages: true }, ...options })
  await app.listen({ port, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  return app
}

t.test('server restart (new history epoch): RESYNC_REQUIRED -> the handler gets a snapshot with what was written meanwhile', async (t) => {
  const db = await createDatabase(t)
  const first = await startServer(t, db, 0)
  const port = (first.server.address() as { port: number }).port
  const held = heldReconnects()
  const client = createClient<Records>({ url: `ws://127.0.0.1:${port}/ws`, token: held.provider, reconnect: { initialDelay: 10, maxDelay: 50 } })
  t.teardown(() => { client.close() })
  const events: Event[] = []
  await client.subscribe('messages', { filter: { channel: 'general' } }, (e) => events.push(e))
  const messages = db.resources.messages!
  await messages.insert({ id: 'm1', content: 'one', channel: 'general' })
  await client.get('messages', 'm1')

  await first.close()
  await held.attempted()
  await messages.insert({ id: 'm2', content: 'written while down', channel: 'general' })
  await messages.insert({ id: 'x1', content: 'not ours', channel: 'random' })
  await startServer(t, db, port)
  const reopened = next(client, 'open')
  held.release()
  await reopened
  await messages.insert({ id: 'm3', content: 'live again', channel: 'general' })
  await client.get('messages', 'm3')
  t.same(describe(events), ['insert:m1', 'snapshot:m1,m2', 'insert:m3'])
})

t.test('history too short for the gap: the client re-lists instead of missing events', async (t) => {
  const { url, db, app } = await buildApp(t, { historySize: 2 })
  const held = heldReconnects()
  const client = createClient<Records>({ url, token: held.provider, reconnect: { initialDelay: 10 } })
  t.teardown(() => { client.close() })
  const events: Event[] = []
  await client.subscribe('messages', {}, (e) => events.push(e))
  killSockets(app)
  await held.attempted()
  const messages = db.resources.messages!
  for (let i = 1; i <= 4; i++) await messages.insert({ id: `m${i}`, content: `n${i}`, channel: 'c' })
  const reopened = next(client, 'open')
  held.release()
  await reopened
  await client.listPage('messages', { limit: 1 })
  t.same(describe(events), ['snapshot:m1,m2,m3,m4'])
})

t.test('reconnect: false ends in closed; requests then fail CLIENT_CLOSED', async (t) => {
  const { url, app } = await buildApp(t)
  const client = createClient<Records>({ url, reconnect: false })
  t.teardown(() => { client.close() })
  await client.connect()
  const closed = next(client, 'closed')
  killSockets(app)
  await closed
  t.equal(client.state, 'closed')
  const error = await client.get('messages', 'x').then(() => null, (e: unknown) => e)
  t.equal((error as RealtimeError).code, 'CLIENT_CLOSED')
})

t.test('maxAttempts against a server that is gone: connect() rejects and the state is closed', async (t) => {
  const { url, app } = await buildApp(t)
  await app.close()
  const client = createClient<Records>({ url, reconnect: { initialDelay: 1, maxAttempts: 2 } })
  t.teardown(() => { client.close() })
  const attempts: number[] = []
  client.on('reconnecting', ({ attempt }) => attempts.push(attempt))
  const error = await client.connect().then(() => null, (e: unknown) => e)
  t.equal((error as RealtimeError).code, 'CLIENT_CLOSED')
  t.same(attempts, [1, 2], 'retried maxAttempts times')
  t.equal(client.state, 'closed')
})
