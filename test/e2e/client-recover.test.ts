import type { Socket } from 'node:net'
import t from 'tap'
import { WebSocket } from 'ws'
import { createClient, type SubscriptionEvent } from '../../src/client/index.js'
import type { SocketLike } from '../../src/client/types.js'
import { buildApp } from '../helpers/app.js'
import { partsOf } from '../helpers/hub.js'

const EVENTS = 3000
const CONTENT = 'x'.repeat(4000)

// Regression: a pushed RESYNC_REQUIRED (frames dropped for a slow reader) used to surface as an
// error event only; the client now resumes from its last seq on the same socket.
t.test('after frames were dropped for a slow reader, the client resumes with no gap and no duplicate', async (t) => {
  const ctx = await buildApp(t, { backpressure: { maxBufferedBytes: 256 * 1024, policy: 'drop' }, historySize: EVENTS })
  let raw: WebSocket | null = null
  const client = createClient<{ messages: { content: string, channel: string } }>({
    url: ctx.url,
    requestTimeout: 20_000,
    socketFactory: (url) => { raw = new WebSocket(url); return raw as unknown as SocketLike }
  })
  t.teardown(() => client.close())
  const seen: string[] = []
  const snapshots: number[] = []
  await client.subscribe('messages', {}, (event: SubscriptionEvent<{ id: string }>) => {
    if (event.event === 'insert') seen.push(event.data.id)
    if (event.event === 'snapshot') snapshots.push(event.data.length)
  })
  const tcp = (raw as unknown as { _socket: Socket })._socket
  tcp.pause()
  for (let i = 0; i < EVENTS; i++) {
    const id = `m${String(i).padStart(5, '0')}`
    partsOf(ctx.app).stream.publish({ resource: 'messages', type: 'insert', id, before: null, after: { id, content: CONTENT, channel: 'c' } })
    if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve))
  }
  t.ok(partsOf(ctx.app).hub.counters.messagesDropped > 0, 'the server dropped frames for the paused reader')
  tcp.resume()
  for (let waited = 0; new Set(seen).size < EVENTS && waited < 600; waited++) await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(new Set(seen).size, EVENTS, 'every event reached the handler')
  t.equal(seen.length, EVENTS, 'none twice')
  t.same(seen, [...seen].sort(), 'in order')
  t.same(snapshots, [], 'history covered the gap: replayed, not re-listed')
})
