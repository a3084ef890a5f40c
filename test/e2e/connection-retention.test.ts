import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { test } from 'tap'
import { buildApp, sleep } from '../helpers/app.js'
import { partsOf } from '../helpers/hub.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

async function collect (): Promise<void> {
  for (let i = 0; i < 6; i++) {
    gc()
    await sleep(10)
  }
}

// Regression: @fastify/websocket left the upgrade's ServerResponse on the TCP socket and an
// 'error' listener closing over the Fastify request and reply, so every idle connection kept
// its whole HTTP request (headers, token) alive: ~3 KB per socket (see BENCHMARKS.md).
test('an accepted connection does not keep its upgrade request or reply alive', async (t) => {
  const refs: Array<WeakRef<object>> = []
  const { client } = await buildApp(t, {}, {
    before: (app) => {
      app.addHook('onRequest', async (request, reply) => {
        refs.push(new WeakRef(request), new WeakRef(reply), new WeakRef(request.raw), new WeakRef(reply.raw))
      })
    }
  })
  const socket = await client()
  const reply = await socket.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'general' } })
  t.equal(reply.type, 'subscribed')
  t.equal(refs.length, 4, 'the upgrade went through the Fastify hooks')
  await collect()
  t.same(refs.map((ref) => ref.deref() === undefined), [true, true, true, true], 'request, reply and their raw objects were collected')
  const after = await socket.request({ type: 'ping' })
  t.equal(after.type, 'pong', 'the socket still works after the upgrade objects are gone')
})

test('socket errors and server shutdown still reach the connection', async (t) => {
  const { app, client } = await buildApp(t)
  const socket = await client()
  const [connection] = partsOf(app).hub.connections.values()
  t.ok(connection, 'connection registered')
  t.equal(connection?.socket.listenerCount('error'), 1, 'one error listener (ours), none holding the request')
  connection?.socket.emit('error', new Error('boom'))
  t.equal(partsOf(app).hub.connections.size, 1, 'an error event alone does not drop the connection')
  await app.close()
  const closed = await socket.closed
  t.equal(closed.code, 1001, 'shutdown closes with going-away')
})
