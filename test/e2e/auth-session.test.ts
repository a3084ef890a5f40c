import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'
import { hsToken, SECRET } from '../helpers/jwt.js'

const nowSec = (): number => Math.floor(Date.now() / 1000)
const auth = { auth: { required: true, drivers: [{ driver: 'jwt' as const, config: { secret: SECRET } }] } }

t.test('a socket whose token expires is closed with 4001 unless it refreshed first', async (t) => {
  const { url } = await buildApp(t, auth)
  const shortToken = hsToken({ sub: 'u1', exp: nowSec() + 2 })
  const stale = await connect(`${url}?token=${shortToken}`)
  const fresh = await connect(`${url}?token=${shortToken}`)
  const reply = await fresh.client.request({ type: 'auth', token: hsToken({ sub: 'u1', exp: nowSec() + 600 }) })
  t.equal(reply.type, 'authenticated')
  t.equal(reply.user.id, 'u1')
  t.equal(Date.parse(reply.expiresAt), (nowSec() + 600) * 1000, 'expiresAt from the new exp')
  const closed = await stale.client.closed
  t.equal(closed.code, 4001, 'the stale socket is closed with 4001')
  // Both tokens had the same exp, which has now passed: the refreshed socket must still work.
  t.equal((await fresh.client.request({ type: 'ping' })).type, 'pong')
  t.equal(fresh.client.closeCode, null)
  fresh.client.close()
})

t.test('auth refresh: bad tokens and other users are UNAUTHORIZED; the socket stays usable', async (t) => {
  const { client } = await buildApp(t, auth)
  const ws = await client(`?token=${hsToken({ sub: 'u1' })}`)
  t.match(await ws.request({ type: 'auth', token: 'garbage' }), { type: 'error', code: 'UNAUTHORIZED' })
  t.match(await ws.request({ type: 'auth', token: hsToken({ sub: 'u2' }) }), { type: 'error', code: 'UNAUTHORIZED' })
  t.match(await ws.request({ type: 'auth' }), { type: 'error', code: 'INVALID_REQUEST' })
  t.match(await ws.request({ type: 'auth', token: 5 }), { type: 'error', code: 'INVALID_REQUEST' })
  t.equal((await ws.request({ type: 'ping' })).type, 'pong')
  const ok = await ws.request({ type: 'auth', token: hsToken({ sub: 'u1' }) })
  t.equal(ok.type, 'authenticated')
  t.equal(ok.expiresAt, null, 'no exp, no expiry')
})

t.test('an anonymous socket can authenticate with the auth message', async (t) => {
  const { client, app } = await buildApp(t, { auth: { drivers: [{ driver: 'jwt', config: { secret: SECRET } }] } })
  const ws = await client()
  const reply = await ws.request({ type: 'auth', token: hsToken({ sub: 'late' }) })
  t.equal(reply.user.id, 'late')
  t.equal(app.realtime.getClients()[0]?.user?.id, 'late')
})

t.test('refresh re-runs guards: subscriptions no longer allowed are dropped, forced filters recomputed', async (t) => {
  const { client, db } = await buildApp(t, {
    ...auth,
    resources: {
      messages: {
        guard: {
          subscribe: (user) => user?.role === 'member' || user?.role === 'admin',
          list: (user) => user?.role === 'admin' ? true : { author: user?.id ?? '' }
        }
      },
      users: { auth: ['admin'] }
    }
  })
  const ws = await client(`?token=${hsToken({ sub: 'u1', role: 'admin' })}`)
  const all = await ws.request({ type: 'subscribe', resource: 'messages' })
  t.same(all.filter, {}, 'admin sees everything')
  const usersSub = await ws.request({ type: 'subscribe', resource: 'users' })
  t.equal(usersSub.type, 'subscribed')

  const refreshed = await ws.request({ type: 'auth', token: hsToken({ sub: 'u1', role: 'member' }) })
  t.equal(refreshed.type, 'authenticated')
  const dropped = ws.ofType('unsubscribed')
  t.equal(dropped.length, 1, 'only the users subscription was dropped (role gate)')
  t.match(dropped[0], { resource: 'users', subscriptionId: usersSub.subscriptionId, reason: 'FORBIDDEN' })

  await db.resources.users!.insert({ name: 'x' })
  await db.resources.messages!.insert({ content: 'not mine', channel: 'c', author: 'u2' })
  await db.resources.messages!.insert({ content: 'mine', channel: 'c', author: 'u1' })
  const event = await ws.waitType('event')
  t.equal(event.data.content, 'mine', 'the narrowed filter lets my record through')
  t.equal(ws.ofType('event').length, 0, 'neither the other author\'s message nor the users insert arrived')

  await ws.request({ type: 'auth', token: hsToken({ sub: 'u1', role: 'guest' }) })
  t.match(await ws.waitFor((m) => m.type === 'unsubscribed' && m.resource === 'messages'), { subscriptionId: all.subscriptionId, reason: 'FORBIDDEN' })
  await db.resources.messages!.insert({ content: 'mine again', channel: 'c', author: 'u1' })
  t.equal((await ws.request({ type: 'ping' })).type, 'pong')
  t.equal(ws.ofType('event').length, 0, 'no events after the subscription was dropped')
})

t.test('disconnectUser closes every socket of that user with 1008 and no one else', async (t) => {
  const { url, app } = await buildApp(t, auth)
  const a1 = await connect(`${url}?token=${hsToken({ sub: 'a' })}`)
  const a2 = await connect(`${url}?token=${hsToken({ sub: 'a' })}`)
  const b = await connect(`${url}?token=${hsToken({ sub: 'b' })}`)
  t.equal(app.realtime.disconnectUser('a', 'account suspended'), 2)
  const [c1, c2] = await Promise.all([a1.client.closed, a2.client.closed])
  t.same([c1.code, c2.code], [1008, 1008])
  t.equal(c1.reason, 'account suspended')
  t.equal((await b.client.request({ type: 'ping' })).type, 'pong')
  t.equal(app.realtime.disconnectUser('nobody'), 0)
  b.client.close()
})
