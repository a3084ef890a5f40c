import t from 'tap'
import Fastify from 'fastify'
import s3dbRealtime, { type InspectorSnapshot } from '../../src/index.js'
import { resolveOptions } from '../../src/options/index.js'
import { buildApp } from '../helpers/app.js'
import type { TestClient } from '../helpers/client.js'
import { createDatabase } from '../helpers/db.js'
import { hsToken } from '../helpers/jwt.js'
import { jwtAuth } from '../helpers/users.js'

// Issue #17 section 2: the live inspector. Real sockets, real s3db (memory://).

const PASSWORD = 'hunter2-protected-value'
const CLAIM_SECRET = 'claim-secret-never-shown'
const ann = { id: 'ann', role: 'member', apiSecret: CLAIM_SECRET }
const bob = { id: 'bob', role: 'member' }
const root = { id: 'root', role: 'admin' }
const tokens = { ann: hsToken(ann), bob: hsToken(bob), root: hsToken(root) }

/** `users` subscriptions get a guard-forced filter on the protected `password` (its value must never show). */
const resources = {
  messages: true,
  users: { protected: ['password'], guard: { subscribe: () => ({ password: PASSWORD }) } }
}

async function appWith (t: Parameters<typeof buildApp>[0], inspector: unknown): Promise<Awaited<ReturnType<typeof buildApp>>> {
  return await buildApp(t, { ...jwtAuth, resources, ...(inspector === undefined ? {} : { inspector }) } as Parameters<typeof buildApp>[1])
}

async function as (open: (query?: string, headers?: Record<string, string>) => Promise<TestClient>, token: string, query = ''): Promise<TestClient> {
  return await open(query, { authorization: `Bearer ${token}` })
}

/** Every credential and protected value the test made: none may appear in what the inspector says. */
function secretsIn (text: string): string[] {
  return [...Object.values(tokens), PASSWORD, CLAIM_SECRET].filter((secret) => text.includes(secret))
}

t.test('inspect() reports the connections, subscriptions and channels clients made; matched grows with events', async (t) => {
  const { app, db, client } = await appWith(t, { interval: 100 })
  const annSocket = await as(client, tokens.ann)
  const bobSocket = await as(client, tokens.bob)
  const annSub = await annSocket.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'a' } })
  const bobSub = await bobSocket.request({ type: 'subscribe', resource: 'messages' })
  await bobSocket.request({ type: 'subscribe', resource: 'users' })
  await annSocket.request({ type: 'join', channel: 'presence-lobby', userInfo: { name: 'Ann' } })

  const before = app.realtime.inspect()
  const subscription = (s: InspectorSnapshot, id: string) => s.resources.flatMap((r) => r.items).find((i) => i.subscriptionId === id)
  t.equal(subscription(before, annSub.subscriptionId as string)?.matched, 0)

  await db.resources.messages!.insert({ content: 'one', channel: 'a' })
  await db.resources.messages!.insert({ content: 'two', channel: 'a' })
  await db.resources.messages!.insert({ content: 'three', channel: 'b' })
  await db.resources.users!.insert({ name: 'Zed', password: PASSWORD })
  for (let i = 0; i < 3; i++) await bobSocket.waitFor((m) => m.type === 'event' && m.resource === 'messages')
  for (let i = 0; i < 2; i++) await annSocket.waitType('event')

  const snapshot = app.realtime.inspect()
  t.equal(snapshot.totals.connections, 2)
  t.equal(snapshot.totals.subscriptions, 3)
  t.same(snapshot.connections.items.map((c) => c.userId).sort(), ['ann', 'bob'])
  t.match(snapshot.connections.items.find((c) => c.userId === 'ann'), { roles: ['member'], subscriptions: 1, channels: ['presence-lobby'], channelCount: 1, awaitingAuth: false })
  t.match(snapshot.connections.items.find((c) => c.userId === 'bob'), { subscriptions: 2, channelCount: 0 })
  const messages = snapshot.resources.find((r) => r.name === 'messages')
  t.match(messages, { subscriptions: 2, seq: 3, epoch: snapshot.node.epoch, truncated: false })
  t.match(subscription(snapshot, annSub.subscriptionId as string), { userId: 'ann', filter: { channel: 'a' }, forced: false, matched: 2 })
  t.match(subscription(snapshot, bobSub.subscriptionId as string), { userId: 'bob', filter: {}, matched: 3 })
  const users = snapshot.resources.find((r) => r.name === 'users')
  t.same(users?.items[0]?.filter, { password: '[protected]' }, 'a forced filter on a protected field shows no value')
  t.equal(users?.items[0]?.forced, true)
  t.same(snapshot.channels.items, [{ name: 'presence-lobby', type: 'presence', members: 1 }])
  t.match(snapshot.counters, { events: 4, connectionsAccepted: 2 })
  t.ok(snapshot.counters.deliveries >= 5)
  t.match(snapshot.node, { clustered: false, nodeId: null, busHealthy: true, running: true, path: '/ws' })
  t.same(secretsIn(JSON.stringify(snapshot)), [], 'no token, claim or protected value in the JSON')
})

t.test('an admin socket inspects: the reply, then pushes; others are FORBIDDEN; no secrets on the wire', async (t) => {
  const { client } = await appWith(t, { interval: 100 })
  const annSocket = await as(client, tokens.ann)
  await annSocket.request({ type: 'subscribe', resource: 'users' })
  const admin = await as(client, tokens.root)
  const reply = await admin.request({ type: 'inspect' })
  t.equal(reply.type, 'inspector')
  const data = reply.data as InspectorSnapshot
  t.equal(data.totals.connections, 2)
  t.equal(data.totals.inspectors, 1)
  t.ok(data.connections.items.some((c) => c.userId === 'ann'))
  t.same(data.resources.find((r) => r.name === 'users')?.items[0]?.filter, { password: '[protected]' })
  const push = await admin.waitFor((m) => m.type === 'inspector' && m.requestId === undefined)
  t.ok((push.data as InspectorSnapshot).history.length <= 1, 'a push carries the newest chart point only')
  const pushes = admin.ofType('inspector').map((m) => JSON.stringify(m)).join('')
  t.same(secretsIn(JSON.stringify(reply) + JSON.stringify(push) + pushes), [])

  const denied = await annSocket.request({ type: 'inspect' })
  t.match(denied, { type: 'error', code: 'FORBIDDEN' }, 'a member may not inspect')
  const anonymous = await client()
  t.match(await anonymous.request({ type: 'inspect' }), { type: 'error', code: 'FORBIDDEN' }, 'nor an anonymous socket')
})

t.test('a token refresh that drops the role stops the feed with a pushed FORBIDDEN', async (t) => {
  const { client } = await appWith(t, { interval: 100 })
  const admin = await as(client, tokens.root)
  await admin.request({ type: 'inspect' })
  const refreshed = await admin.request({ type: 'auth', token: hsToken({ id: 'root', role: 'member' }) })
  t.equal(refreshed.type, 'authenticated')
  const stop = await admin.waitFor((m) => m.type === 'error' && m.code === 'FORBIDDEN' && m.requestId === undefined)
  t.match(stop.message, /no longer allowed/)
})

t.test('off by default: no route, inspect is an unknown type, the method still answers', async (t) => {
  const { app, client } = await appWith(t, undefined)
  const page = await app.inject({ url: '/realtime/inspector' })
  t.equal(page.statusCode, 404)
  const admin = await as(client, tokens.root)
  t.match(await admin.request({ type: 'inspect' }), { type: 'error', code: 'UNKNOWN_MESSAGE_TYPE' })
  t.equal(app.realtime.inspect().totals.connections, 1)
})

t.test('authorize guards the page (403, or its own reply) and grants sockets that ask with ?inspector=1', async (t) => {
  const authorize = async (request: { headers: Record<string, unknown> }, reply: { code: (n: number) => { header: (k: string, v: string) => { send: (b: unknown) => unknown } } }): Promise<boolean> => {
    if (request.headers['x-operator'] === 'basic') { await reply.code(401).header('www-authenticate', 'Basic').send({ message: 'who?' }); return false }
    return request.headers['x-operator'] === 'yes'
  }
  const { app, client } = await appWith(t, { roles: [], authorize, path: '/ops/inspector' })
  t.equal((await app.inject({ url: '/ops/inspector' })).statusCode, 403)
  const asked = await app.inject({ url: '/ops/inspector', headers: { 'x-operator': 'basic' } })
  t.equal(asked.statusCode, 401, 'authorize may reply itself')
  t.equal(asked.headers['www-authenticate'], 'Basic')
  const page = await app.inject({ url: '/ops/inspector', headers: { 'x-operator': 'yes' } })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.headers['content-security-policy'], /script-src 'nonce-/)
  t.match(page.body, /"wsPath":"\/ws"/)

  const granted = await client('?inspector=1', { 'x-operator': 'yes' })
  t.equal((await granted.request({ type: 'inspect' })).type, 'inspector', 'an anonymous socket authorize allowed')
  const refused = await client('?inspector=1')
  t.match(await refused.request({ type: 'inspect' }), { code: 'FORBIDDEN' }, 'authorize said no: the socket stays, the inspector does not')
  const notAsked = await client('', { 'x-operator': 'yes' })
  t.match(await notAsked.request({ type: 'inspect' }), { code: 'FORBIDDEN' }, 'authorize runs only on upgrades that ask for the inspector')
  const admin = await as(client, tokens.root)
  t.match(await admin.request({ type: 'inspect' }), { code: 'FORBIDDEN' }, 'roles: [] grants no role')
})

t.test('lists are cut to inspector.limit; totals stay exact', async (t) => {
  const { app, client } = await appWith(t, { limit: 1 })
  const a = await as(client, tokens.ann)
  const b = await as(client, tokens.bob)
  await a.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'a' } })
  await b.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'b' } })
  await b.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'c' } })
  const snapshot = app.realtime.inspect()
  t.match(snapshot.connections, { total: 2, truncated: true })
  t.equal(snapshot.connections.items.length, 1)
  t.equal(snapshot.connections.items[0]?.userId, 'bob', 'the connection with the most subscriptions first')
  t.match(snapshot.resources.find((r) => r.name === 'messages'), { subscriptions: 3, truncated: true })
  t.equal(snapshot.resources.find((r) => r.name === 'messages')?.items.length, 1)
})

t.test('invalid inspector options throw a coded error at register', async (t) => {
  const bad: unknown[] = [
    'yes', { enabled: 'yes' }, { path: 'inspector' }, { path: '/ws' }, { roles: 'admin' }, { roles: [] }, { authorize: true },
    { interval: 10 }, { interval: 1.5 }, { limit: 0 }, { limit: 5000 }, { colour: 'blue' }
  ]
  const database = await createDatabase(t)
  for (const inspector of bad) {
    t.throws(() => resolveOptions({ database, inspector }), { code: 'S3DB_REALTIME_INVALID_OPTION', message: /inspector/ }, JSON.stringify(inspector))
  }
  t.equal(resolveOptions({ database }).inspector, null, 'off by default')
  t.equal(resolveOptions({ database, inspector: { enabled: false } }).inspector, null)
  t.match(resolveOptions({ database, inspector: true }).inspector, { path: '/realtime/inspector', roles: ['admin'], authorize: null, interval: 1000, limit: 50 })

  const app = Fastify({ logger: false })
  t.teardown(async () => { await app.close() })
  app.get('/realtime/inspector', async () => 'mine')
  await t.rejects(async () => { await app.register(s3dbRealtime, { database, resources: { messages: true }, inspector: true }).ready() },
    { code: 'S3DB_REALTIME_INVALID_OPTION', message: /inspector\.path/ }, 'a route the app already has')
})
