import t from 'tap'
import { createClient, jwtExpiry, RealtimeError } from '../../src/client/index.js'
import { buildApp, sleep } from '../helpers/app.js'
import { hsToken, SECRET } from '../helpers/jwt.js'
import { partsOf } from '../helpers/hub.js'

const auth = { auth: { required: true, drivers: [{ driver: 'jwt' as const, config: { secret: SECRET } }] } }

t.test('the token is refreshed on the live socket before it expires: no 4001, no reconnect', async (t) => {
  const { url } = await buildApp(t, auth)
  const issued: string[] = []
  const client = createClient({
    url,
    token: () => { const token = hsToken({ sub: 'u1', n: issued.length }, { expiresIn: 3000 }); issued.push(token); return token },
    refreshBeforeExpiry: 2000
  })
  t.teardown(() => { client.close() })
  const reconnects: unknown[] = []
  client.on('reconnecting', (info) => reconnects.push(info))
  await client.connect()
  const firstExpiry = jwtExpiry(issued[0] as string) as number
  const clientId = client.clientId
  t.match(client.user, { id: 'u1' })

  const refreshed = await new Promise<{ expiresAt: number | null }>((resolve) => { client.on('authenticated', resolve) })
  t.equal(issued.length, 2, 'the provider was asked for a fresh token')
  t.ok(refreshed.expiresAt !== null && refreshed.expiresAt > firstExpiry, 'the server reports the new expiry')

  // Past the first token's expiry the server would have closed the socket with 4001.
  await sleep(Math.max(0, firstExpiry - Date.now()) + 300)
  await client.listPage('messages', { limit: 1 })
  t.equal(client.clientId, clientId, 'still the same socket')
  t.same(reconnects, [], 'never reconnected')
})

t.test('the token provider runs again for each reconnect', async (t) => {
  const { url, app } = await buildApp(t, auth)
  let calls = 0
  const client = createClient({ url, token: () => { calls++; return hsToken({ sub: `u${calls}` }) }, reconnect: { initialDelay: 10 } })
  t.teardown(() => { client.close() })
  await client.connect()
  t.match(client.user, { id: 'u1' })
  const reopened = new Promise<void>((resolve) => { client.on('open', () => { resolve() }) })
  for (const connection of partsOf(app).hub.connections.values()) connection.socket.terminate()
  await reopened
  t.equal(calls, 2)
  t.match(client.user, { id: 'u2' }, 'connected with the new token')
})

t.test('a refused token keeps retrying with backoff, then connects once the provider has a good one', async (t) => {
  const { url } = await buildApp(t, auth)
  let calls = 0
  const client = createClient({
    url,
    // Each refused token differs (`n`): the client never offers a refused token twice.
    token: () => { calls++; return calls < 3 ? hsToken({ sub: 'u1', n: calls }, { secret: 'wrong-secret-wrong-secret-wrong!!' }) : hsToken({ sub: 'u1' }) },
    reconnect: { initialDelay: 5, maxDelay: 20 }
  })
  t.teardown(() => { client.close() })
  const attempts: number[] = []
  client.on('reconnecting', ({ attempt }) => attempts.push(attempt))
  await client.connect()
  t.same(attempts, [1, 2], 'two refused upgrades, two retries')
  t.equal(client.state, 'open')
})

t.test('a ticket provider is asked for a one-time ticket on every connect', async (t) => {
  const { url, app } = await buildApp(t, {
    ...auth,
    tickets: { route: { authenticate: () => ({ id: 'ticket-user' }) } }
  })
  const http = url.replace('ws://', 'http://')
  let calls = 0
  const client = createClient({
    url,
    ticket: async () => {
      calls++
      const response = await fetch(`${http}/ticket`, { method: 'POST' })
      return ((await response.json()) as { ticket: string }).ticket
    },
    reconnect: { initialDelay: 10 }
  })
  t.teardown(() => { client.close() })
  await client.connect()
  t.match(client.user, { id: 'ticket-user' })
  const reopened = new Promise<void>((resolve) => { client.on('open', () => { resolve() }) })
  for (const connection of partsOf(app).hub.connections.values()) connection.socket.terminate()
  await reopened
  t.equal(calls, 2, 'a used ticket is never replayed')
  t.throws(() => createClient({ url, ticket: async () => 'x', token: 'y' }), /not both/)
  t.ok(new RealtimeError('X', 'y') instanceof Error)
})

t.test('a refresh that loses a role: the server ends the subscription and the client reports FORBIDDEN', async (t) => {
  const { url, db } = await buildApp(t, { ...auth, resources: { messages: true, users: { auth: ['admin'] } } })
  let calls = 0
  let allowRefresh = (): void => {}
  const refreshAllowed = new Promise<void>((resolve) => { allowRefresh = resolve })
  const client = createClient({
    url,
    // The second token (the refresh) is for the same user, demoted; held until the test is ready.
    token: async () => {
      calls++
      if (calls > 1) await refreshAllowed
      return hsToken({ sub: 'u1', role: calls === 1 ? 'admin' : 'member' }, { expiresIn: 3000 })
    },
    refreshBeforeExpiry: 2500
  })
  t.teardown(() => { client.close() })
  const seen: string[] = []
  const refusal = new Promise<RealtimeError>((resolve) => { client.on('error', resolve) })
  await client.subscribe('users', {}, (e) => { if (e.event === 'insert') seen.push(String(e.data.name)) })
  await db.resources.users!.insert({ name: 'before' })
  await client.listPage('messages', { limit: 1 })
  allowRefresh()

  const refused = await refusal
  t.equal(refused.code, 'FORBIDDEN')
  t.match(refused.details, { resource: 'users' })
  await db.resources.users!.insert({ name: 'after' })
  await client.listPage('messages', { limit: 1 })
  t.same(seen, ['before'], 'nothing after the server ended it')
  t.equal(client.state, 'open', 'the connection itself stays')
})
