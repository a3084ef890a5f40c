import t from 'tap'
import { createServer } from 'node:net'
import { WebSocket } from 'ws'
import { Database } from 's3db.js'
import { WebSocketPlugin } from '../../src/index.js'

async function freePort (): Promise<number> {
  return await new Promise((resolve) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })
}

// The seed's Quick Start and Browser Client, as written; only the import line, the connection
// string and the port (a free one instead of 3001, so tests can run in parallel) differ.
t.test("the seed's Quick Start + Browser Client work as written", async (t) => {
  const PORT = await freePort()
  const db = new Database({
    connectionString: 'memory://mybucket/quickstart'
  } as ConstructorParameters<typeof Database>[0])

  await db.connect()

  // Create a resource
  await db.createResource({
    name: 'messages',
    attributes: {
      content: 'string|required',
      author: 'string|required',
      channel: 'string|required'
    },
    timestamps: true
  } as Parameters<typeof db.createResource>[0])

  // Setup WebSocket plugin
  const wsPlugin = new WebSocketPlugin({
    port: PORT,
    logLevel: 'silent',
    resources: {
      messages: true // Enable real-time for this resource
    }
  })
  const started: Array<{ port: number | null }> = []
  wsPlugin.on('plugin.started', (e) => started.push(e))
  const connectedEvents: string[] = []
  wsPlugin.on('client.connected', ({ clientId }) => connectedEvents.push(clientId))

  await db.usePlugin(wsPlugin as never)
  t.teardown(async () => { await wsPlugin.stop(); await db.disconnect() })
  t.equal(started.length, 1, 'plugin.started emitted')
  t.equal(wsPlugin.getServerInfo().isRunning, true)
  t.equal(wsPlugin.getServerInfo().port, PORT)

  // --- Browser Client (seed), with ws's WebSocket standing in for the browser's ---
  const received: Array<Record<string, any>> = []
  const subscribed = new Promise<void>((resolve) => {
    const ws = new WebSocket(`ws://localhost:${PORT}`)
    t.teardown(() => ws.close())

    ws.onopen = () => {
      // Subscribe to messages
      ws.send(JSON.stringify({
        type: 'subscribe',
        resource: 'messages',
        filter: { channel: 'general' }
      }))
    }

    ws.onmessage = (event) => {
      const msg = JSON.parse(String(event.data))

      if (msg.type === 'event') {
        received.push(msg)
      }
      if (msg.type === 'subscribed') resolve()
    }
  })
  await subscribed
  t.equal(connectedEvents.length, 1, 'client.connected forwarded')
  t.equal(wsPlugin.getClients().length, 1)

  await db.resources.messages!.insert({ content: 'Hello!', author: 'ann', channel: 'general' })
  await db.resources.messages!.insert({ content: 'elsewhere', author: 'bob', channel: 'random' })
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(received.length, 1, 'only the matching insert arrived')
  t.equal(received[0]?.event, 'insert')
  t.equal(received[0]?.data.content, 'Hello!')

  t.equal(wsPlugin.broadcast({ type: 'announcement', message: 'Hello!' }), 1)
  t.equal(wsPlugin.broadcastToResource('messages', { type: 'custom', data: '...' }), 1)
  t.type(wsPlugin.getMetrics().messagesSent, 'number')

  await wsPlugin.stop()
  t.equal(wsPlugin.getServerInfo().isRunning, false)
})

t.test('WebSocketPlugin mirrors the channel API and forwards channel events', async (t) => {
  const PORT = await freePort()
  const db = new Database({ connectionString: 'memory://mybucket/channels' } as ConstructorParameters<typeof Database>[0])
  await db.connect()
  await db.createResource({ name: 'messages', attributes: { content: 'string' } } as Parameters<typeof db.createResource>[0])
  const wsPlugin = new WebSocketPlugin({ port: PORT, host: '127.0.0.1', logLevel: 'silent', startupBanner: false, resources: { messages: true } })
  const joined: string[] = []
  wsPlugin.on('channel.joined', (e: { channel: string }) => joined.push(e.channel))
  await db.usePlugin(wsPlugin as never)
  t.teardown(async () => { await wsPlugin.stop(); await db.disconnect() })

  const ws = new WebSocket(`ws://127.0.0.1:${PORT}`)
  const frames: Array<Record<string, any>> = []
  ws.on('message', (d) => frames.push(JSON.parse(String(d))))
  t.teardown(() => ws.close())
  await new Promise((resolve) => ws.once('open', resolve))
  ws.send(JSON.stringify({ type: 'join', channel: 'public-lobby', requestId: 'j' }))
  while (!frames.some((f) => f.requestId === 'j')) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(frames.find((f) => f.requestId === 'j')?.type, 'channel:joined')
  t.same(joined, ['public-lobby'])
  t.equal(wsPlugin.getChannel('public-lobby')?.name, 'public-lobby')
  t.same(wsPlugin.listChannels().map((c) => c.name), ['public-lobby'])
  t.equal(wsPlugin.broadcastToChannel('public-lobby', { type: 'note' }), 1)
  t.equal(wsPlugin.getChannelStats().channels, 1)
  t.equal(wsPlugin.realtime.getServerInfo().clients, 1)
})

t.test('a plugin given to new Database({ plugins }) starts once its resources exist', async (t) => {
  const PORT = await freePort()
  const wsPlugin = new WebSocketPlugin({ port: PORT, host: '127.0.0.1', logLevel: 'silent', startupBanner: false, resources: { notes: true } })
  const db = new Database({ connectionString: 'memory://mybucket/ctor', plugins: [wsPlugin] } as unknown as ConstructorParameters<typeof Database>[0])
  await db.connect()
  t.teardown(async () => { await wsPlugin.stop(); await db.disconnect() })
  t.equal(wsPlugin.getServerInfo().isRunning, false, 'waiting for the notes resource')
  const started = new Promise((resolve) => wsPlugin.once('plugin.started', resolve))
  await db.createResource({ name: 'notes', attributes: { text: 'string' } } as Parameters<typeof db.createResource>[0])
  await started
  t.equal(wsPlugin.getServerInfo().isRunning, true)
  const ws = new WebSocket(`ws://127.0.0.1:${PORT}`)
  t.teardown(() => ws.close())
  const first = await new Promise<Record<string, unknown>>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))))
  t.equal(first.type, 'connected')
})
