import t, { type Test } from 'tap'
import { buildApp, type TestApp } from '../helpers/app.js'
import { connect, type TestClient } from '../helpers/client.js'
import { hsToken, SECRET } from '../helpers/jwt.js'
import { until } from '../helpers/wait.js'
import { partsOf } from '../helpers/hub.js'

// Issue #12 §5: once the server decides to close a socket, none of its frames run any more, and
// a client that never reads (so never answers the close handshake) loses the socket within a
// short grace instead of ws's 30 s close timeout.

const auth = { auth: { drivers: [{ driver: 'jwt' as const, config: { secret: SECRET } }] } }
const nowSec = (): number => Math.floor(Date.now() / 1000)
/** Well under ws's 30 s close timeout, well over the 1 s grace. */
const GONE_WITHIN = 10_000

/** A client that has stopped reading: it will never see the close frame nor answer it. */
async function deafClient (t: Test, app: TestApp, token: string): Promise<{ client: TestClient, clientId: string }> {
  const { client, connected } = await connect(`${app.url}?token=${token}`)
  t.teardown(() => { client.socket.terminate() })
  client.socket.pause()
  return { client, clientId: connected.clientId as string }
}

/** Sends `count` inserts and resolves once the server socket has received every frame. */
async function sendInserts (app: TestApp, client: TestClient, clientId: string, count: number): Promise<void> {
  const serverSocket = partsOf(app.app).hub.connections.get(clientId)?.socket
  if (serverSocket === undefined) throw new Error('the server no longer knows the socket')
  let arrived = 0
  serverSocket.on('message', () => { arrived++ })
  for (let i = 0; i < count; i++) client.send({ type: 'insert', resource: 'messages', data: { content: `late ${i}`, channel: 'general' } })
  await until(() => arrived === count, 'the inserts to reach the server')
}

t.test('after disconnectUser a client that never reads gets no insert executed, and its socket is gone within the grace', async (t) => {
  const app = await buildApp(t, auth)
  const { client, clientId } = await deafClient(t, app, hsToken({ sub: 'banned' }))
  const reader = await app.client(`?token=${hsToken({ sub: 'banned' })}`)
  t.equal(app.app.realtime.disconnectUser('banned', 'account suspended'), 2)
  t.equal(app.app.realtime.disconnectUser('banned'), 0, 'a socket being closed is not closed twice')
  t.match(await reader.closed, { code: 1008, reason: 'account suspended' }, 'a client that reads completes the handshake as before')

  await sendInserts(app, client, clientId, 5)
  await until(() => !partsOf(app.app).hub.connections.has(clientId), 'the server to drop the socket', GONE_WITHIN)
  t.equal(await app.db.resources.messages!.count(), 0, 'no insert sent after the ban was executed')
})

t.test('after 4001 expiry a client that never reads gets no insert executed, and its socket is gone within the grace', async (t) => {
  const app = await buildApp(t, auth)
  const exp = nowSec() + 2
  const { client, clientId } = await deafClient(t, app, hsToken({ sub: 'short', exp }))
  // Frames sent the moment the token expires: refused whether or not the expiry sweep ran yet.
  await until(() => Date.now() >= exp * 1000, 'the token to expire')
  await sendInserts(app, client, clientId, 5)
  await until(() => !partsOf(app.app).hub.connections.has(clientId), 'the server to drop the socket', GONE_WITHIN)
  t.equal(await app.db.resources.messages!.count(), 0, 'no insert sent after exp was executed')
})

t.test('a 1013 slow-consumer close stops frame handling at once too', async (t) => {
  // A send limit that one big frame overflows: the server closes with 1013.
  const app = await buildApp(t, { ...auth, backpressure: { maxBufferedBytes: 1024, policy: 'close' } })
  const { client, clientId } = await deafClient(t, app, hsToken({ sub: 'slow' }))
  app.app.realtime.sendToClient(clientId, { type: 'notice', padding: 'x'.repeat(4096) })
  t.equal(app.app.realtime.getMetrics().slowConsumerCloses, 1, 'closed as a slow consumer')

  await sendInserts(app, client, clientId, 5)
  await until(() => !partsOf(app.app).hub.connections.has(clientId), 'the server to drop the socket', GONE_WITHIN)
  t.equal(await app.db.resources.messages!.count(), 0, 'no insert sent after the close was executed')
})

t.test('a write or publish waiting on a guard when the server closes the socket does not act', async (t) => {
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  let guardCalls = 0
  const waitingGuard = async (): Promise<boolean> => { guardCalls++; await gate; return true }
  const app = await buildApp(t, {
    ...auth,
    resources: { messages: { guard: { create: waitingGuard }, publishAuth: waitingGuard } }
  })
  const watcher = await app.client()
  await watcher.request({ type: 'subscribe', resource: 'messages' })
  const { client } = await connect(`${app.url}?token=${hsToken({ sub: 'banned' })}`)
  t.teardown(() => { client.socket.terminate() })
  client.send({ type: 'insert', resource: 'messages', data: { content: 'late', channel: 'general' } })
  await until(() => guardCalls === 1, 'the insert to reach its guard')
  t.equal(app.app.realtime.disconnectUser('banned'), 1)
  release()
  await client.closed
  // Without the check the insert lands within a few ms of the release; give it ample time.
  await new Promise<void>((resolve) => { setTimeout(resolve, 300) })
  t.equal((await app.db.resources.messages!.list()).length, 0, 'the insert waiting on its guard never ran')
  await watcher.request({ type: 'ping' })
  t.equal(watcher.ofType('event').length, 0, 'nobody heard of it')
})

t.test('a token that expires while a guard runs: the insert, publish and join do not happen', async (t) => {
  const expSec = nowSec() + 2
  const pastExpiry = async (): Promise<boolean> => { await until(() => Date.now() > expSec * 1000 + 20, 'the token to expire'); return true }
  const app = await buildApp(t, {
    ...auth,
    resources: { messages: { guard: { create: pastExpiry }, publishAuth: pastExpiry } },
    channels: { guards: { 'presence-*': pastExpiry } }
  })
  const watcher = await app.client()
  await watcher.request({ type: 'subscribe', resource: 'messages' })
  await watcher.request({ type: 'join', channel: 'presence-room' })
  const { client } = await connect(`${app.url}?token=${hsToken({ sub: 'late', exp: expSec })}`)
  t.teardown(() => { client.socket.terminate() })
  client.send({ type: 'insert', resource: 'messages', data: { content: 'late', channel: 'general' } })
  client.send({ type: 'publish', channel: 'messages', message: { text: 'late' } })
  client.send({ type: 'join', channel: 'presence-room' })
  const closed = await client.closed
  t.equal(closed.code, 4001)
  await new Promise<void>((resolve) => { setTimeout(resolve, 300) })
  t.equal((await app.db.resources.messages!.list()).length, 0, 'nothing inserted after exp')
  await watcher.request({ type: 'ping' })
  t.same(watcher.received.filter((m) => m.type === 'event' || m.type === 'message' || m.type === 'presence:member_joined').map((m) => m.type), [], 'nothing published or joined after exp')
})
