import { randomUUID } from 'node:crypto'
import t from 'tap'
import type { ChannelEvent } from '../../src/channels/types.js'
import { createClient, type RealtimeError } from '../../src/client/index.js'
import { buildApp, type TestApp } from '../helpers/app.js'
import { createDatabase } from '../helpers/db.js'
import { hsToken, SECRET } from '../helpers/jwt.js'
import { startRedis } from '../helpers/redis.js'
import { until } from '../helpers/wait.js'
import { openClient } from '../helpers/users.js'

// Issue #12, section 4: a token refresh that drops a role re-checks channel membership too.

const auth = { auth: { required: true, drivers: [{ driver: 'jwt' as const, config: { secret: SECRET } }] } }
const channels = { guards: { 'admin-*': (user: { role?: unknown }) => user.role === 'admin' } }

t.test('regression: a refresh that drops the role leaves the private and presence channels the guard now refuses', async (t) => {
  const { url, app } = await buildApp(t, { ...auth, channels })
  const left: ChannelEvent[] = []
  app.realtime.on('channel.left', (event) => { left.push(event) })
  const ann = await openClient(t, url, { id: 'ann', role: 'admin' })
  const root = await openClient(t, url, { id: 'root', role: 'admin' })
  for (const ws of [ann, root]) {
    for (const channel of ['private-admin-ops', 'presence-admin-room', 'presence-lobby']) {
      t.equal((await ws.request({ type: 'join', channel, userInfo: { name: ws.id } })).type, 'channel:joined')
    }
  }

  const refreshed = await ann.request({ type: 'auth', token: hsToken({ sub: 'ann', role: 'member' }) })
  t.equal(refreshed.type, 'authenticated')
  t.same(ann.ofType('channel:left').map((m) => ({ ...m })).sort((a, b) => a.channel.localeCompare(b.channel)), [
    { type: 'channel:left', channel: 'presence-admin-room', reason: 'FORBIDDEN' },
    { type: 'channel:left', channel: 'private-admin-ops', reason: 'FORBIDDEN' }
  ], 'the client is told, before the authenticated reply, which channels it left and why')

  const gone = await root.waitFor((m) => m.type === 'presence:member_left' && m.channel === 'presence-admin-room')
  t.equal(gone.member.id, 'ann', 'presence members see ann leave')
  t.match(await ann.request({ type: 'channel:message', channel: 'private-admin-ops', event: 'x', data: 1 }), { code: 'NOT_IN_CHANNEL' },
    'ann can no longer post')
  t.match(await root.request({ type: 'channel:message', channel: 'private-admin-ops', event: 'secret', data: 1 }), { delivered: 0 },
    'ann no longer receives')
  t.match(await ann.request({ type: 'channel:message', channel: 'presence-lobby', event: 'hi' }), { delivered: 1 },
    'a channel the guard still allows is kept')
  t.same(app.realtime.getChannelMembers('presence-admin-room').map((m) => m.id), ['root'])
  t.same(left.map((e) => [e.channel, e.reason]).sort(), [['presence-admin-room', 'forbidden'], ['private-admin-ops', 'forbidden']],
    'the hub reports channel.left with reason forbidden')
  t.equal(root.ofType('presence:member_left').length, 0, 'member_left was announced once')

  t.match(await ann.request({ type: 'join', channel: 'private-admin-ops' }), { code: 'FORBIDDEN' }, 'and cannot join again')
  const before = ann.ofType('channel:left').length
  await ann.request({ type: 'auth', token: hsToken({ sub: 'ann', role: 'member' }) })
  t.equal(ann.ofType('channel:left').length, before, 'a refresh that changes nothing sends no channel:left')
})

t.test('the client drops a channel the server removed it from and reports why', async (t) => {
  const { url } = await buildApp(t, { ...auth, channels })
  let role = 'admin'
  let issued = 0
  const client = createClient({
    url,
    // Valid for 60 s and refreshed 59.5 s early: the first refresh comes about half a second in.
    // A fresh claim per call: two tokens signed in the same second would otherwise be identical,
    // and the client skips (and stops scheduling) a refresh that would send the same token.
    token: () => hsToken({ sub: 'ann', role, n: ++issued }, { expiresIn: 60_000 }),
    refreshBeforeExpiry: 59_500
  })
  t.teardown(() => { client.close() })
  const errors: RealtimeError[] = []
  client.on('error', (error) => { errors.push(error) })
  const room = await client.join('presence-admin-room', { name: 'Ann' })
  const heard: Array<{ reason: string }> = []
  room.on('left', (info) => { heard.push(info) })
  role = 'member'
  await until(() => heard.length > 0, 'the channel to be left')
  t.same(heard, [{ reason: 'FORBIDDEN' }], 'the channel hears why it was left')
  t.equal(room.left, true)
  t.match(errors, [{ code: 'FORBIDDEN', details: { channel: 'presence-admin-room' } }], 'error carries the code')
  await t.rejects(room.send('x'), { code: 'NOT_IN_CHANNEL' }, 'the app cannot keep using it')
})

t.test('across two instances: the members on the other instance see the refused member leave, once', async (t) => {
  const redis = await startRedis(t)
  const bucket = `memory://refresh-${randomUUID()}/db`
  const node = async (nodeId: string): Promise<TestApp> => await buildApp(t, { ...auth, channels, redis: { url: redis.url, presenceLease: 200 }, nodeId }, {
    db: await createDatabase(t, { connectionString: bucket })
  })
  const [a, b] = [await node('a'), await node('b')]
  const ann = await openClient(t, a.url, { id: 'ann', role: 'admin' })
  const cat = await openClient(t, a.url, { id: 'cat', role: 'admin' }) // a witness on ann's instance
  const root = await openClient(t, b.url, { id: 'root', role: 'admin' })
  await ann.request({ type: 'join', channel: 'presence-admin-room' })
  await cat.request({ type: 'join', channel: 'presence-admin-room' })
  await until(() => b.app.realtime.getChannelMembers('presence-admin-room').length === 2, 'B to see ann and cat')
  await root.request({ type: 'join', channel: 'presence-admin-room' })
  await ann.waitFor((m) => m.type === 'presence:member_joined' && m.member.id === 'root')

  await ann.request({ type: 'auth', token: hsToken({ sub: 'ann', role: 'member' }) })
  const gone = await root.waitFor((m) => m.type === 'presence:member_left')
  t.equal(gone.member.id, 'ann', 'root, on the other instance, sees ann leave')
  await until(() => b.app.realtime.getChannelMembers('presence-admin-room').length === 2, 'B to drop ann')
  t.same(a.app.realtime.getChannelMembers('presence-admin-room').map((m) => m.id).sort(), ['cat', 'root'])

  await root.request({ type: 'channel:message', channel: 'presence-admin-room', event: 'secret', data: 1 })
  await cat.waitFor((m) => m.type === 'channel:message' && m.event === 'secret')
  t.same(ann.ofType('channel:message'), [], 'ann, on the instance that delivered it to cat, did not get it')
  t.same(root.ofType('presence:member_left'), [], 'member_left came once')
})
