import Fastify from 'fastify'
import websocket from '@fastify/websocket'
import t from 'tap'
import s3dbRealtime from '../../src/index.js'
import { buildApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'
import { createDatabase } from '../helpers/db.js'
import { tryUpgrade } from '../helpers/upgrade.js'
import { partsOf } from '../helpers/hub.js'

t.test('maxConnections: upgrades beyond the limit get 503 before the handshake, and are counted', async (t) => {
  const { url, client, app } = await buildApp(t, { maxConnections: 2, metrics: true })
  const a = await client()
  await client()
  const refused = await tryUpgrade(url)
  t.equal(refused.status, 503)
  t.equal(refused.headers['retry-after'], '5')
  t.match(refused.body, /Too many connections/)
  t.equal(partsOf(app).hub.connections.size, 2, 'no third socket was opened')
  t.equal(app.realtime.getMetrics().connectionsRejected, 1)
  const metrics = await (await fetch(url.replace(/^ws:/, 'http:').replace(/\/ws$/, '/metrics'))).text()
  t.match(metrics, /connections_rejected_total\{reason="max_connections"\} 1/)

  a.close()
  await a.closed
  await partsOf(app).readiness.run() // a round trip: lets the server process the close
  const reopened = await client()
  t.equal((await reopened.request({ type: 'ping' })).type, 'pong', 'a freed slot can be used again')
})

t.test('maxConnections only applies to the WebSocket route', async (t) => {
  const { url } = await buildApp(t, { maxConnections: 1, health: true })
  const http = url.replace(/^ws:/, 'http:').replace(/\/ws$/, '')
  const ws = await connect(url)
  t.teardown(() => { ws.client.close() })
  t.equal((await fetch(`${http}/health/live`)).status, 200)
})

t.test('invalid maxConnections / compression options are refused', async (t) => {
  for (const options of [{ maxConnections: 0 }, { maxConnections: 1.5 }, { limits: { maxConnections: 5 } }, { drainTimeout: -1 }, { compression: 'gzip' }, { compression: { threshold: -1 } }, { compression: { level: 9 } }]) {
    await t.rejects(buildApp(t, options as never), { code: 'S3DB_REALTIME_INVALID_OPTION' }, JSON.stringify(options))
  }
})

t.test('compression: permessage-deflate is negotiated only when enabled', async (t) => {
  const on = await buildApp(t, { compression: { threshold: 64 } })
  const compressed = await connect(on.url, { perMessageDeflate: true })
  t.teardown(() => { compressed.client.close() })
  t.match(compressed.client.socket.extensions, /permessage-deflate/, 'negotiated')
  await compressed.client.request({ type: 'subscribe', resource: 'messages' })
  const content = 'hello '.repeat(500).trim()
  const tcp = (compressed.client.socket as unknown as { _socket: { bytesRead: number } })._socket
  const readBefore = tcp.bytesRead
  await on.db.resources.messages!.insert({ id: 'big', content, channel: 'general' })
  const event = await compressed.client.waitType('event')
  t.equal(event.data.content, content, 'a compressed frame arrives intact')
  t.ok(tcp.bytesRead - readBefore < content.length / 4, `it crossed the wire compressed (${tcp.bytesRead - readBefore} bytes for ${content.length} chars)`)

  const off = await buildApp(t)
  const plain = await connect(off.url, { perMessageDeflate: true })
  t.teardown(() => { plain.client.close() })
  t.equal(plain.client.socket.extensions, '', 'not negotiated by default')
})

// Regression: ws ignored `threshold` (compressing every frame) unless server_no_context_takeover
// was negotiated, which neither the plugin nor usual clients asked for.
t.test('compression: frames below the threshold are sent uncompressed', async (t) => {
  const on = await buildApp(t, { compression: { threshold: 1024 } })
  const { client } = await connect(on.url, { perMessageDeflate: true })
  t.teardown(() => { client.close() })
  t.match(client.socket.extensions, /permessage-deflate/, 'negotiated')
  await client.request({ type: 'subscribe', resource: 'messages' })
  const tcp = (client.socket as unknown as { _socket: { bytesRead: number } })._socket
  const before = tcp.bytesRead
  await on.db.resources.messages!.insert({ id: 'small', content: 'hello '.repeat(8), channel: 'general' })
  const event = await client.waitType('event')
  const frameLength = Buffer.byteLength(JSON.stringify(event))
  t.ok(frameLength < 1024, 'the event is below the threshold')
  t.ok(tcp.bytesRead - before >= frameLength, `sent as is (${tcp.bytesRead - before} bytes on the wire for a ${frameLength}-byte frame)`)
})

t.test('compression with an app-registered @fastify/websocket lacking perMessageDeflate is an option error', async (t) => {
  const db = await createDatabase(t)
  const app = Fastify({ logger: false })
  t.teardown(async () => { await app.close() })
  await app.register(websocket)
  await t.rejects(async () => { await app.register(s3dbRealtime, { database: db, compression: true }) }, { code: 'S3DB_REALTIME_INVALID_OPTION' })
})
