import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import { WebSocket } from 'ws'
import s3dbRealtime from '../../src/index.js'
import { buildApp, sleep } from '../helpers/app.js'
import { TestClient } from '../helpers/client.js'
import { createDatabase } from '../helpers/db.js'

t.test('heartbeat: pings every interval and terminates a socket that does not pong', async (t) => {
  const { url } = await buildApp(t, { heartbeatInterval: 50, heartbeatTimeout: 50 })
  const healthy = new TestClient(url)
  let pings = 0
  healthy.socket.on('ping', () => { pings++ })
  const silent = new TestClient(url, { autoPong: false })
  t.teardown(() => { healthy.close(); silent.close() })
  await healthy.waitType('connected')
  await silent.waitType('connected')
  const closed = await silent.closed
  t.equal(closed.code, 1006, 'the silent socket was terminated')
  t.ok(pings >= 1, 'the healthy socket was pinged')
  t.equal(healthy.socket.readyState, WebSocket.OPEN, 'the healthy socket stays open')
})

t.test('hub API: info, clients, broadcast, sendToClient, broadcastToResource, metrics, events', async (t) => {
  const { client, app } = await buildApp(t)
  const connectedEvents: string[] = []
  const disconnected: Array<{ clientId: string, code: number }> = []
  app.realtime.on('client.connected', ({ clientId }) => connectedEvents.push(clientId))
  app.realtime.on('client.disconnected', (e) => disconnected.push(e))
  const a = await client()
  const b = await client()
  await a.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'x' } })

  const info = app.realtime.getServerInfo()
  t.equal(info.isRunning, true)
  t.equal(info.clients, 2)
  t.equal(info.subscriptions, 1)
  t.equal(info.path, '/ws')
  t.type(info.port, 'number')

  const clients = app.realtime.getClients()
  t.equal(clients.length, 2)
  const aInfo = clients.find((c) => c.subscriptions.length === 1)
  t.ok(aInfo)
  t.same(aInfo?.subscriptions[0]?.filter, { channel: 'x' })
  t.equal(aInfo?.user, null)
  t.type(aInfo?.connectedAt, 'string')
  t.same(connectedEvents.sort(), clients.map((c) => c.id).sort())

  t.equal(app.realtime.broadcast({ type: 'announcement', text: 'hi' }), 2)
  t.equal((await a.waitType('announcement')).text, 'hi')
  t.equal((await b.waitType('announcement')).text, 'hi')
  const aId = aInfo?.id as string
  t.equal(app.realtime.broadcast({ type: 'only-a' }, (c) => c.id === aId), 1)
  await a.waitType('only-a')
  t.equal(app.realtime.sendToClient(aId, { type: 'private', data: 1 }), true)
  t.equal((await a.waitType('private')).data, 1)
  t.equal(app.realtime.sendToClient('nope', { type: 'private' }), false)
  t.equal(app.realtime.broadcastToResource('messages', { type: 'custom' }), 1)
  await a.waitType('custom')
  await b.request({ type: 'ping' })
  t.same(b.ofType('only-a').concat(b.ofType('private'), b.ofType('custom')), [], 'b got none of the targeted messages')

  const metrics = app.realtime.getMetrics()
  for (const key of ['connections', 'disconnections', 'messagesReceived', 'messagesSent', 'broadcasts', 'errors']) {
    t.type((metrics as unknown as Record<string, unknown>)[key], 'number', `metrics.${key}`)
  }
  t.equal(metrics.connections, 2)
  t.equal(metrics.broadcasts, 3, 'broadcast x2 + broadcastToResource')
  t.ok(metrics.messagesReceived >= 2)

  b.close()
  await b.closed
  await sleep(20)
  t.equal(disconnected.length, 1)
  t.equal(disconnected[0]?.code, 1005)
  t.equal(app.realtime.getMetrics().disconnections, 1)
})

t.test('fastify.close(): sockets get 1001, s3db listeners and hooks detached, events emitted', async (t) => {
  const db = await createDatabase(t)
  const messages = db.resources.messages as any
  const listenersBefore = messages.listenerCount('inserted')
  const hooksBefore = messages.hooks.afterReplace.length
  const app = Fastify({ logger: false })
  await app.register(s3dbRealtime, { database: db, resources: { messages: true } })
  const events: string[] = []
  let startedPort: number | null = null
  app.realtime.on('plugin.started', ({ port }) => { startedPort = port; events.push('plugin.started') })
  app.realtime.on('server.started', () => events.push('server.started'))
  app.realtime.on('server.stopped', () => events.push('server.stopped'))
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.equal(messages.listenerCount('inserted'), listenersBefore + 1)
  const port = (app.server.address() as { port: number }).port
  const ws = new TestClient(`ws://127.0.0.1:${port}/ws`)
  await ws.waitType('connected')
  await app.close()
  const closed = await ws.closed
  t.equal(closed.code, 1001)
  t.equal(messages.listenerCount('inserted'), listenersBefore, 'event listener removed')
  t.equal(messages.hooks.afterReplace.length, hooksBefore, 'hooks removed')
  t.same(events, ['plugin.started', 'server.started', 'server.stopped'])
  t.equal(startedPort, port, 'plugin.started carries the bound port')
  t.equal(app.realtime.getServerInfo().isRunning, false)
})

t.test('after close the process can exit on its own (no timers or handles left)', async (t) => {
  const script = `
    import Fastify from 'fastify'
    import { Database } from 's3db.js'
    import s3dbRealtime from '../dist/index.js'
    import { WebSocket } from 'ws'
    const db = new Database({ connectionString: 'memory://exit/db', logLevel: 'silent' })
    await db.connect()
    await db.createResource({ name: 'messages', attributes: { content: 'string' } })
    const app = Fastify()
    await app.register(s3dbRealtime, { database: db, resources: { messages: true }, heartbeatInterval: 1000 })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const ws = new WebSocket('ws://127.0.0.1:' + app.server.address().port + '/ws')
    await new Promise((r) => ws.once('message', r))
    await app.close()
    await db.disconnect()
    console.log('closed')
  `
  // A plain node process (without tap's loaders) runs the built package.
  const env = { ...process.env }
  delete env.NODE_OPTIONS
  mkdirSync('test-output', { recursive: true })
  const file = join('test-output', `exit-check-${process.pid}.mjs`)
  writeFileSync(file, script)
  t.teardown(() => { rmSync(file, { force: true }) })
  const child = spawn(process.execPath, [file], { cwd: process.cwd(), env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d) => { out += String(d) })
  child.stderr.on('data', (d) => { out += String(d) })
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])))
  clearTimeout(killer)
  t.equal(signal, null, `exited by itself (output: ${out.slice(0, 300)})`)
  t.equal(code, 0, out.slice(0, 500))
  t.match(out, /closed/)
})

t.test('close lets a request already in flight finish and reply before the socket goes (1001)', async (t) => {
  const db = await createDatabase(t)
  const messages = db.resources.messages as any
  let release: () => void = () => {}
  const started = new Promise<void>((resolve) => {
    messages.addHook('beforeInsert', async (data: unknown) => {
      resolve()
      await new Promise<void>((r) => { release = r })
      return data
    })
  })
  const app = Fastify({ logger: false })
  await app.register(s3dbRealtime, { database: db, resources: { messages: true } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const ws = new TestClient(`ws://127.0.0.1:${(app.server.address() as { port: number }).port}/ws`)
  await ws.waitType('connected')
  ws.send({ type: 'insert', requestId: 'slow', resource: 'messages', data: { content: 'x', channel: 'c' } })
  await started
  const closing = app.close()
  setImmediate(() => release())
  await closing
  const closed = await ws.closed
  const reply = ws.received.find((m) => m.requestId === 'slow')
  t.equal(reply?.type, 'inserted', 'the in-flight insert replied')
  t.equal(closed.code, 1001)
  t.equal(await messages.count(), 1)
})
