// Black-box conformance: the seed's WebSocketPlugin API (options, methods, events, auth drivers,
// rate limit, cors, health on the same port) used exactly as the seed document shows.
import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { Database } from 's3db.js'
import { WebSocketPlugin } from '../../src/index.js'
import { connect, type TestClient } from '../helpers/client.js'
import { createDatabase, type Db } from '../helpers/db.js'
import { hsToken } from '../helpers/jwt.js'
import { tryUpgrade } from '../helpers/upgrade.js'

type PluginOptions = ConstructorParameters<typeof WebSocketPlugin>[0]

/** Starts the seed's plugin on a free port through db.usePlugin; stopped at teardown. */
async function startPlugin (t: Test, db: Db, options: PluginOptions): Promise<{ ws: WebSocketPlugin, url: string, open: (q?: string, h?: Record<string, string>) => Promise<TestClient> }> {
  const ws = new WebSocketPlugin({ port: 0, host: '127.0.0.1', logLevel: 'silent', startupBanner: false, ...options })
  await db.usePlugin(ws as never)
  t.teardown(async () => { await ws.stop() })
  const url = `ws://127.0.0.1:${ws.getServerInfo().port as number}`
  const open = async (q = '', h?: Record<string, string>): Promise<TestClient> => {
    const { client } = await connect(url + q, h === undefined ? undefined : { headers: h })
    t.teardown(() => client.close())
    return client
  }
  return { ws, url, open }
}

t.test('TLDR: jwt driver with the seed\'s secret, protected password; token via query and header', async (t) => {
  const db = await createDatabase(t)
  const { open } = await startPlugin(t, db, {
    auth: { drivers: [{ driver: 'jwt', config: { secret: 'my-secret' } }] },
    resources: { users: { protected: ['password'] }, messages: true }
  })
  const token = hsToken({ sub: 'u1', role: 'admin' }, { secret: 'my-secret' })
  const byQuery = await open('?token=' + token)
  const byHeader = await open('', { Authorization: 'Bearer ' + token })
  for (const c of [byQuery, byHeader]) {
    const refused = await c.request({ type: 'insert', resource: 'users', data: { name: 'Ann', password: 'hunter2' } })
    t.match(refused, { code: 'FORBIDDEN', details: { field: '/data/password' } }, 'protected is server-only (PROTOCOL.md)')
    const ins = await c.request({ type: 'insert', resource: 'users', data: { name: 'Ann' } })
    t.equal(ins.type, 'inserted')
  }
  await db.resources.users!.insert({ id: 'ann', name: 'Ann', password: 'hunter2' })
  const got = await byQuery.request({ type: 'get', resource: 'users', id: 'ann' })
  t.equal(got.data.name, 'Ann')
  t.notOk('password' in got.data, 'protected field hidden')
})

t.test('writeOnly: a password set on sign-up is written by the client and never read back', async (t) => {
  const db = await createDatabase(t)
  const { open } = await startPlugin(t, db, { resources: { users: { writeOnly: ['password'] } } })
  const c = await open('')
  const ins = await c.request({ type: 'insert', resource: 'users', data: { id: 'ann', name: 'Ann', password: 'hunter2' } })
  t.equal(ins.type, 'inserted')
  t.notOk('password' in ins.data, 'never sent back')
  t.equal((await db.resources.users!.get('ann')).password, 'hunter2', 'stored')
})

t.test('API key driver: ?token=<key> gives the configured user', async (t) => {
  const db = await createDatabase(t)
  const { url } = await startPlugin(t, db, {
    auth: {
      drivers: [{
        driver: 'apiKey',
        config: { keys: { api_key_123: { id: 'service1', role: 'service', scopes: ['read'] }, api_key_456: { id: 'service2', role: 'admin', scopes: ['read', 'write'] } } }
      }]
    },
    resources: { messages: true }
  })
  const { client, connected } = await connect(url + '?token=api_key_123')
  t.teardown(() => client.close())
  t.equal(connected.user.id, 'service1')
  t.equal(connected.user.role, 'service')
  t.same(connected.user.scopes, ['read'])
  t.equal((await tryUpgrade(url + '?token=wrong_key')).status, 401, 'a wrong key is refused')
})

t.test('required auth refuses anonymous upgrades', async (t) => {
  const db = await createDatabase(t)
  const { url } = await startPlugin(t, db, { auth: { required: true, drivers: [{ driver: 'jwt', config: { secret: 'my-secret' } }] }, resources: { messages: true } })
  t.equal((await tryUpgrade(url)).status, 401)
})

t.test('methods: getServerInfo, getClients, broadcast (+filter), sendToClient, broadcastToResource, getMetrics', async (t) => {
  const db = await createDatabase(t)
  const { ws, url } = await startPlugin(t, db, { auth: { drivers: [{ driver: 'jwt', config: { secret: 'my-secret' } }] }, resources: { messages: true } })
  const admin = await connect(url + '?token=' + hsToken({ sub: 'a', role: 'admin' }, { secret: 'my-secret' }))
  const anon = await connect(url)
  t.teardown(() => { admin.client.close(); anon.client.close() })
  await admin.client.request({ type: 'subscribe', resource: 'messages' })

  const info = ws.getServerInfo()
  t.equal(info.isRunning, true)
  t.type(info.port, 'number')
  t.equal(info.clients, 2)

  const clients = ws.getClients()
  t.equal(clients.length, 2)
  const me = clients.find((c) => c.id === admin.connected.clientId)
  t.ok(me, 'clients are listed by id')
  t.equal(me?.user?.id, 'a')
  t.equal(me?.subscriptions.length, 1)
  t.ok(me?.connectedAt)
  t.ok(me !== undefined && 'metadata' in me)

  t.equal(ws.broadcast({ type: 'announcement', message: 'Hello!' }), 2)
  t.equal((await admin.client.waitType('announcement')).message, 'Hello!')
  t.equal((await anon.client.waitType('announcement')).message, 'Hello!')
  ws.broadcast({ type: 'alert', message: 'Admin only' }, (client) => client.user?.role === 'admin')
  await admin.client.waitType('alert')
  t.equal(ws.sendToClient(anon.connected.clientId, { type: 'private', data: '...' }), true)
  t.equal((await anon.client.waitType('private')).data, '...')
  t.equal(anon.client.ofType('alert').length, 0, 'filtered broadcast skipped non-admins')
  t.equal(ws.sendToClient('no-such-client', { type: 'private' }), false)
  ws.broadcastToResource('messages', { type: 'custom', data: '...' })
  await admin.client.waitType('custom')
  await anon.client.request({ type: 'ping' })
  t.equal(anon.client.ofType('custom').length, 0, 'only resource subscribers')

  const metrics = ws.getMetrics()
  for (const key of ['connections', 'disconnections', 'messagesReceived', 'messagesSent', 'broadcasts', 'errors'] as const) {
    t.type(metrics[key], 'number', `getMetrics().${key}`)
  }
  t.equal(metrics.connections, 2)
  t.ok(metrics.broadcasts >= 3)
  t.ok(metrics.messagesReceived >= 2)
})

t.test('events: plugin.started, server.started, client.connected/disconnected, server.stopped', async (t) => {
  const db = await createDatabase(t)
  const ws = new WebSocketPlugin({ port: 0, host: '127.0.0.1', logLevel: 'silent', startupBanner: false, resources: { messages: true } })
  const seen: Array<[string, any]> = []
  for (const name of ['plugin.started', 'server.started', 'server.stopped', 'client.connected', 'client.disconnected']) {
    ws.on(name as 'plugin.started', (payload: unknown) => seen.push([name, payload]))
  }
  await db.usePlugin(ws as never)
  const port = ws.getServerInfo().port as number
  const started = seen.find(([n]) => n === 'plugin.started')?.[1]
  t.equal(started?.port, port)
  t.equal(started?.host, '127.0.0.1')
  t.equal(seen.find(([n]) => n === 'server.started')?.[1]?.port, port)
  const { client, connected } = await connect(`ws://127.0.0.1:${port}`)
  t.same(seen.find(([n]) => n === 'client.connected')?.[1], { clientId: connected.clientId, user: null })
  client.socket.close(1000, 'bye')
  await client.closed
  while (!seen.some(([n]) => n === 'client.disconnected')) await new Promise((resolve) => setTimeout(resolve, 10))
  const gone = seen.find(([n]) => n === 'client.disconnected')?.[1]
  t.equal(gone.clientId, connected.clientId)
  t.equal(gone.code, 1000)
  t.equal(gone.reason, 'bye')
  t.equal(ws.getMetrics().disconnections, 1, 'getMetrics().disconnections counts it')
  const metrics = await fetch(`http://127.0.0.1:${port}/metrics`)
  t.equal(metrics.status, 200, '/metrics on the plugin\'s port')
  t.match(await metrics.text(), /# TYPE/)
  await ws.stop()
  t.ok(seen.some(([n]) => n === 'server.stopped'))
  t.equal(ws.getServerInfo().isRunning, false)
})

t.test('rateLimit {enabled, windowMs, maxRequests}, cors {origin}, health on the same port', async (t) => {
  const db = await createDatabase(t)
  const { open, url } = await startPlugin(t, db, {
    rateLimit: { enabled: true, windowMs: 60_000, maxRequests: 2 },
    cors: { enabled: true, origin: 'http://app.example' },
    resources: { messages: true }
  })
  const c = await open()
  await c.request({ type: 'ping' })
  await c.request({ type: 'ping' })
  t.equal((await c.request({ type: 'ping' })).code, 'RATE_LIMIT_EXCEEDED')
  t.equal((await tryUpgrade(url, { origin: 'http://evil.example' })).status, 403)
  const http = url.replace('ws://', 'http://')
  for (const route of ['/health', '/health/live', '/health/ready']) {
    t.equal((await fetch(http + route)).status, 200, route)
  }
})

t.test('maxPayloadSize and heartbeat options', async (t) => {
  const db = await createDatabase(t)
  const { url, open } = await startPlugin(t, db, { maxPayloadSize: 512, heartbeatInterval: 100, heartbeatTimeout: 100, resources: { messages: true } })
  const big = await open()
  big.send({ type: 'ping', pad: 'x'.repeat(1024) })
  t.equal((await big.closed).code, 1009)
  const { TestClient } = await import('../helpers/client.js')
  const silent = new TestClient(url, { autoPong: false })
  await silent.waitType('connected')
  const healthy = await open()
  await silent.closed
  t.pass('a socket that never answers pings is terminated')
  t.equal((await healthy.request({ type: 'ping' })).type, 'pong', 'a socket that answers stays open')
})

t.test('resource guards as in the seed (users: roles, protected dot paths, events, guard)', async (t) => {
  const db = new Database({ connectionString: `memory://seed-${randomUUID()}/db`, logLevel: 'silent' } as ConstructorParameters<typeof Database>[0])
  await db.connect()
  t.teardown(async () => { await db.disconnect() })
  await db.createResource({
    name: 'users',
    attributes: { name: 'string', userId: 'string|optional', password: 'string|optional', apiToken: 'string|optional', metadata: { internal: 'string|optional', shown: 'string|optional' } }
  } as Parameters<Db['createResource']>[0])
  await db.createResource({ name: 'notifications', attributes: { text: 'string' } } as Parameters<Db['createResource']>[0])
  const { url } = await startPlugin(t, db, {
    auth: { drivers: [{ driver: 'jwt', config: { secret: 'my-secret' } }] },
    resources: {
      users: {
        auth: ['admin', 'user'],
        protected: ['password', 'apiToken', 'metadata.internal'],
        events: ['insert', 'update', 'delete'],
        guard: {
          subscribe: async (user, filter) => user?.role === 'admin' || filter?.userId === user?.id,
          list: async (user) => user?.role === 'admin' ? true : { userId: user?.id },
          get: async (user, ctx) => ctx.id === user?.id || user?.role === 'admin',
          create: async (user) => user !== null,
          update: async (user, ctx) => ctx.id === user?.id || user?.role === 'admin',
          delete: async (user) => user?.role === 'admin'
        }
      },
      notifications: { events: ['insert'] }
    }
  })
  const as = async (sub: string, role: string): Promise<TestClient> => {
    const { client } = await connect(url + '?token=' + hsToken({ sub, role }, { secret: 'my-secret' }))
    t.teardown(() => client.close())
    return client
  }
  const admin = await as('root', 'admin')
  const ann = await as('ann', 'user')
  const guest = await as('g', 'guest')
  t.equal((await guest.request({ type: 'list', resource: 'users' })).code, 'FORBIDDEN', 'role not in auth')

  t.equal((await ann.request({ type: 'subscribe', resource: 'users' })).code, 'FORBIDDEN', 'subscribe guard false')
  t.equal((await ann.request({ type: 'subscribe', resource: 'users', filter: { userId: 'ann' } })).type, 'subscribed')
  await admin.request({ type: 'subscribe', resource: 'users' })

  const annRecord = { id: 'ann', name: 'Ann', userId: 'ann', password: 'p', apiToken: 't', metadata: { internal: 'secret', shown: 'yes' } }
  const refused = await admin.request({ type: 'insert', resource: 'users', data: annRecord })
  t.equal(refused.code, 'FORBIDDEN', 'protected means server-only: clients cannot write those fields (PROTOCOL.md)')
  await db.resources.users!.insert(annRecord) // the server may
  const adminEvent = await admin.waitFor((m) => m.type === 'event' && m.data.id === 'ann')
  t.same(adminEvent.data.metadata, { shown: 'yes' }, "'metadata.internal' removed, sibling kept")
  t.notOk('password' in adminEvent.data || 'apiToken' in adminEvent.data)
  await admin.request({ type: 'insert', resource: 'users', data: { id: 'bob', name: 'Bob', userId: 'bob' } })
  const ev = await ann.waitType('event')
  t.equal(ev.data.id, 'ann')
  t.same(ev.data.metadata, { shown: 'yes' })

  const listed = await ann.request({ type: 'list', resource: 'users' })
  t.same(listed.data.map((r: { id: string }) => r.id), ['ann'], 'list guard filter')
  t.equal((await ann.request({ type: 'get', resource: 'users', id: 'ann' })).type, 'data')
  t.equal((await ann.request({ type: 'get', resource: 'users', id: 'bob' })).type, 'error', 'get guard')
  t.equal((await ann.request({ type: 'update', resource: 'users', id: 'ann', data: { name: 'Ann B' } })).type, 'updated')
  t.equal((await ann.request({ type: 'update', resource: 'users', id: 'bob', data: { name: 'x' } })).type, 'error', 'update guard')
  t.equal((await ann.request({ type: 'delete', resource: 'users', id: 'ann' })).code, 'FORBIDDEN', 'delete guard')
  t.equal((await admin.request({ type: 'delete', resource: 'users', id: 'bob' })).type, 'deleted')
  const stored = await db.resources.users!.get('ann')
  t.equal((stored.metadata as { internal: string }).internal, 'secret', 'stored record keeps protected fields')

  await admin.request({ type: 'subscribe', resource: 'notifications' })
  await db.resources.notifications!.insert({ id: 'n1', text: 'a' })
  await db.resources.notifications!.update('n1', { text: 'b' })
  await db.resources.notifications!.insert({ id: 'n2', text: 'c' })
  const n2 = await admin.waitFor((m) => m.type === 'event' && m.data.id === 'n2')
  t.ok(n2)
  t.same(admin.ofType('event').filter((e) => e.resource === 'notifications').map((e) => e.event), ['insert'], 'notifications: inserts only')
})

t.test('multi-tenant guard: subscribe returns a forced filter, create sets the tenant', async (t) => {
  const db = await createDatabase(t)
  const { url } = await startPlugin(t, db, {
    auth: { required: true, drivers: [{ driver: 'jwt', config: { secret: 'my-secret' } }] },
    resources: {
      users: {
        guard: {
          subscribe: async (user, filter) => ({ ...filter, tenantId: user?.tenantId }),
          list: async (user) => ({ tenantId: user?.tenantId }),
          create: async (user, data) => { data.tenantId = user?.tenantId; return true }
        }
      }
    }
  })
  const as = async (sub: string, tenantId: string): Promise<TestClient> => {
    const { client } = await connect(url + '?token=' + hsToken({ sub, tenantId }, { secret: 'my-secret' }))
    t.teardown(() => client.close())
    return client
  }
  const a = await as('a', 't1')
  const b = await as('b', 't2')
  await a.request({ type: 'subscribe', resource: 'users', filter: { tenantId: 't2' } })
  await b.request({ type: 'subscribe', resource: 'users' })
  t.match(await b.request({ type: 'insert', resource: 'users', data: { id: 'x', name: 'X', tenantId: 't1' } }), { code: 'INVALID_REQUEST', details: { field: '/data/id' } },
    'a caller the list guard restricts cannot choose ids (it would reveal records outside its view)')
  const ins = await b.request({ type: 'insert', resource: 'users', data: { name: 'X', tenantId: 't1' } })
  t.equal(ins.data?.tenantId, 't2', 'create guard set the tenant')
  const ev = await b.waitType('event')
  t.equal(ev.data.id, ins.data.id)
  await a.request({ type: 'ping' })
  t.equal(a.ofType('event').length, 0, 'another tenant cannot widen its subscription')
  const listA = await a.request({ type: 'list', resource: 'users' })
  t.same(listA.data, [])
})

t.test("seed list guard `{ userId: user?.id }` never widens for an anonymous user", async (t) => {
  const db = await createDatabase(t)
  await db.resources.users!.insert({ id: 'u1', name: 'Ann' })
  const { open } = await startPlugin(t, db, {
    resources: { users: { guard: { list: async (user) => user?.role === 'admin' ? true : { userId: user?.id } } } }
  })
  const anon = await open()
  const reply = await anon.request({ type: 'list', resource: 'users' })
  t.ok(reply.type === 'error' || reply.data.length === 0, `anonymous sees no rows: ${JSON.stringify(reply)}`)
  const got = await anon.request({ type: 'get', resource: 'users', id: 'u1' })
  t.equal(got.type, 'error', 'nor a single row')
})

t.test('db.disconnect() stops a plugin added with usePlugin (its server does not outlive the database)', async (t) => {
  const db = await createDatabase(t)
  const ws = new WebSocketPlugin({ port: 0, host: '127.0.0.1', logLevel: 'silent', startupBanner: false, resources: { messages: true } })
  await db.usePlugin(ws as never)
  t.teardown(async () => { await ws.stop() })
  const port = ws.getServerInfo().port as number
  const { client } = await connect(`ws://127.0.0.1:${port}`)
  const stopped = new Promise<void>((resolve) => ws.once('server.stopped', () => resolve()))
  await db.disconnect()
  t.equal((await client.closed).code, 1001, 'sockets are closed as on stop()')
  await stopped
  t.equal(ws.getServerInfo().isRunning, false)
})
