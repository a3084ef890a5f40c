import t from 'tap'
import type { RealtimeUser } from '../../src/index.js'
import { exampleApp, exampleDatabase, ids } from '../helpers/examples.js'

t.test('Example: multi-tenant documents — no cross-tenant leak via list, get, events, writes or publish', async (t) => {
  const db = await exampleDatabase(t, [{ name: 'documents', attributes: { title: 'string|required', tenantId: 'string|optional', body: 'string|optional' } }])
  const documents = db.resources.documents!
  type U = RealtimeUser & { tenantId: string }
  const owned = async (user: RealtimeUser | null, id: string): Promise<boolean> => {
    const doc = await documents.get(id)
    return doc?.tenantId === (user as U).tenantId
  }
  // The seed's configuration, verbatim in behaviour.
  const { as } = await exampleApp(t, db, {
    auth: { required: true, drivers: [{ driver: 'jwt', config: { secret: (await import('../helpers/jwt.js')).SECRET } }] },
    resources: {
      documents: {
        guard: {
          subscribe: async (user, filter) => ({ ...filter, tenantId: (user as U).tenantId }),
          list: async (user) => ({ tenantId: (user as U).tenantId }),
          get: async (user, ctx) => await owned(user, ctx.id),
          create: async (user, data) => { data.tenantId = (user as U).tenantId; return true },
          update: async (user, ctx) => await owned(user, ctx.id),
          delete: async (user, ctx) => await owned(user, ctx.id) && user?.role === 'admin'
        }
      }
    }
  })
  await documents.insert({ id: 'a1', title: 'A one', tenantId: 'A' })
  await documents.insert({ id: 'b1', title: 'B one', tenantId: 'B' })
  const alice = await as({ sub: 'alice', tenantId: 'A', role: 'user' })
  const bob = await as({ sub: 'bob', tenantId: 'B', role: 'admin' })

  t.same(ids(await alice.request({ type: 'list', resource: 'documents' })), ['a1'])
  t.same(ids(await alice.request({ type: 'list', resource: 'documents', filter: { tenantId: 'B' } })), [], 'cannot widen to B')
  t.same(ids(await alice.request({ type: 'list', resource: 'documents', filter: { title: 'B one' } })), [])
  t.match(await alice.request({ type: 'get', resource: 'documents', id: 'b1' }), { type: 'error', code: 'FORBIDDEN' })
  t.notOk((await alice.request({ type: 'get', resource: 'documents', id: 'b1' })).data)

  const created = await alice.request({ type: 'insert', resource: 'documents', data: { title: 'forged', tenantId: 'B' } })
  t.equal(created.data.tenantId, 'A', 'create guard sets the tenant, overriding a forged one')
  t.equal((await documents.get(created.data.id)).tenantId, 'A')
  t.match(await alice.request({ type: 'update', resource: 'documents', id: 'b1', data: { title: 'pwned' } }), { code: 'FORBIDDEN' })
  t.match(await alice.request({ type: 'update', resource: 'documents', id: 'a1', data: { tenantId: 'B' } }), { code: 'FORBIDDEN' }, 'cannot move a record to B')
  t.match(await bob.request({ type: 'delete', resource: 'documents', id: 'a1' }), { code: 'FORBIDDEN' }, 'admin of B cannot delete A')
  t.match(await alice.request({ type: 'delete', resource: 'documents', id: 'a1' }), { code: 'FORBIDDEN' }, 'non-admin cannot delete')
  t.same((await documents.get('b1')).title, 'B one')
  t.ok(await documents.exists('a1'))

  const aliceSub = await alice.request({ type: 'subscribe', resource: 'documents' })
  t.same(aliceSub.filter, { tenantId: 'A' })
  const sneaky = await alice.request({ type: 'subscribe', resource: 'documents', filter: { tenantId: 'B' } })
  t.equal(sneaky.type, 'subscribed', 'a widening filter subscribes to nothing rather than to B')
  await bob.request({ type: 'subscribe', resource: 'documents' })
  await documents.insert({ id: 'b2', title: 'B two', tenantId: 'B' })
  await documents.update('b1', { title: 'B one v2' })
  await documents.insert({ id: 'a3', title: 'A three', tenantId: 'A' })
  const aliceEvent = await alice.waitType('event')
  t.equal(aliceEvent.data.id, 'a3')
  t.equal(alice.ofType('event').length, 0, 'no B event reached alice through either subscription')
  t.same([(await bob.waitType('event')).data.id, (await bob.waitType('event')).data.id], ['b2', 'b1'])

  // publish: a message about tenant B's data from alice must not reach bob.
  const published = await alice.request({ type: 'publish', channel: 'documents', message: { tenantId: 'B', title: 'spoof' } })
  t.not(published.type, 'published', 'publishing outside your tenant is refused')
  await alice.request({ type: 'publish', channel: 'documents', message: { tenantId: 'A', text: 'hello A' } })
  await documents.insert({ id: 'b3', title: 'B three', tenantId: 'B' })
  t.equal((await bob.waitType('event')).data.id, 'b3')
  t.same(bob.ofType('message'), [], 'bob got no publish from tenant A')
})

t.test('Example: real-time dashboard — roles gate every operation and event; protected fields stripped', async (t) => {
  const db = await exampleDatabase(t, [
    { name: 'metrics', attributes: { cpu: 'number|required', internalData: 'string|optional' } },
    { name: 'alerts', attributes: { level: 'string|required', text: 'string|optional' } }
  ])
  const { as } = await exampleApp(t, db, {
    resources: {
      metrics: { auth: ['admin', 'analyst'], events: ['insert'], protected: ['internalData'] },
      alerts: { auth: ['admin'], events: ['insert', 'update'] }
    }
  })
  const admin = await as({ sub: 'root', role: 'admin' })
  const analyst = await as({ sub: 'ann', roles: ['analyst'] })
  const viewer = await as({ sub: 'vic', role: 'viewer' })
  const anonymous = await as(null)
  await db.resources.metrics!.insert({ id: 'm0', cpu: 1, internalData: 'secret' })
  await db.resources.alerts!.insert({ id: 'al0', level: 'high' })

  for (const [name, client] of Object.entries({ viewer, anonymous })) {
    for (const message of [
      { type: 'subscribe', resource: 'metrics' }, { type: 'list', resource: 'metrics' }, { type: 'get', resource: 'metrics', id: 'm0' },
      { type: 'insert', resource: 'metrics', data: { cpu: 5 } }, { type: 'update', resource: 'metrics', id: 'm0', data: { cpu: 9 } },
      { type: 'delete', resource: 'metrics', id: 'm0' }, { type: 'publish', channel: 'metrics', message: { x: 1 } }
    ]) {
      t.match(await client.request(message), { type: 'error', code: 'FORBIDDEN' }, `${name}: ${message.type} metrics`)
    }
  }
  for (const message of [{ type: 'subscribe', resource: 'alerts' }, { type: 'list', resource: 'alerts' }, { type: 'get', resource: 'alerts', id: 'al0' }]) {
    t.match(await analyst.request(message), { code: 'FORBIDDEN' }, `analyst: ${message.type} alerts`)
  }
  const listed = await analyst.request({ type: 'list', resource: 'metrics' })
  t.same(listed.data.map((m: Record<string, unknown>) => Object.keys(m).includes('internalData')), [false], 'protected field stripped from list')
  t.notOk('internalData' in (await analyst.request({ type: 'get', resource: 'metrics', id: 'm0' })).data)

  await analyst.request({ type: 'subscribe', resource: 'metrics' })
  await admin.request({ type: 'subscribe', resource: 'alerts' })
  await admin.request({ type: 'subscribe', resource: 'metrics' })
  await db.resources.metrics!.update('m0', { cpu: 2 })
  await db.resources.alerts!.insert({ id: 'al1', level: 'low' })
  await db.resources.metrics!.insert({ id: 'm1', cpu: 50, internalData: 'hidden' })
  const metricEvent = await analyst.waitType('event')
  t.match(metricEvent, { event: 'insert', resource: 'metrics', data: { id: 'm1', cpu: 50 } })
  t.notOk('internalData' in metricEvent.data, 'protected field stripped from events')
  t.equal(analyst.ofType('event').length, 0, 'no update (events: insert only) and no alert reached the analyst')
  t.equal((await admin.waitFor((m) => m.type === 'event' && m.resource === 'alerts')).data.id, 'al1')
  t.equal(viewer.ofType('event').length + anonymous.ofType('event').length, 0)
})

t.test('Example: chat with room membership — non-members see nothing of a room', async (t) => {
  const db = await exampleDatabase(t, [{
    name: 'chat_messages',
    attributes: { roomId: 'string|required', userId: 'string|required', username: 'string|required', content: 'string|required|maxlength:2000', type: 'string|default:text' },
    timestamps: true,
    partitions: { byRoom: { fields: { roomId: 'string' } } }
  }])
  const rooms: Record<string, string[]> = { r1: ['ann', 'ben'], r2: ['cat'] }
  const checkRoomMembership = async (userId: string | undefined, roomId: unknown): Promise<boolean> =>
    typeof roomId === 'string' && userId !== undefined && (rooms[roomId]?.includes(userId) ?? false)
  const { as } = await exampleApp(t, db, {
    resources: {
      chat_messages: {
        guard: {
          // The seed's two guards ...
          subscribe: async (user, filter) => await checkRoomMembership(user?.id, filter.roomId),
          create: async (user, data) => data.userId === user?.id && await checkRoomMembership(user?.id, data.roomId),
          // ... and the two a private room also needs: without them list/get are open to all.
          list: async (user, ctx) => await checkRoomMembership(user?.id, ctx.filter.roomId),
          get: async (user, ctx) => {
            const message = await db.resources.chat_messages!.get(ctx.id)
            return await checkRoomMembership(user?.id, message.roomId)
          }
        }
      }
    }
  })
  const chat = db.resources.chat_messages!
  await chat.insert({ id: 'x1', roomId: 'r2', userId: 'cat', username: 'Cat', content: 'private to r2' })
  const ann = await as({ sub: 'ann' })
  const ben = await as({ sub: 'ben' })
  const cat = await as({ sub: 'cat' })

  t.match(await ann.request({ type: 'subscribe', resource: 'chat_messages', filter: { roomId: 'r2' } }), { code: 'FORBIDDEN' })
  t.match(await ann.request({ type: 'subscribe', resource: 'chat_messages' }), { code: 'FORBIDDEN' }, 'no room, no subscription')
  t.match(await ann.request({ type: 'list', resource: 'chat_messages', filter: { roomId: 'r2' } }), { code: 'FORBIDDEN' })
  t.match(await ann.request({ type: 'list', resource: 'chat_messages' }), { code: 'FORBIDDEN' })
  t.match(await ann.request({ type: 'get', resource: 'chat_messages', id: 'x1' }), { code: 'FORBIDDEN' })
  t.match(await ann.request({ type: 'insert', resource: 'chat_messages', data: { roomId: 'r2', userId: 'ann', username: 'Ann', content: 'hi' } }), { code: 'FORBIDDEN' })
  t.match(await ann.request({ type: 'insert', resource: 'chat_messages', data: { roomId: 'r1', userId: 'ben', username: 'Ben', content: 'spoof' } }), { code: 'FORBIDDEN' }, 'cannot post as someone else')

  t.equal((await ann.request({ type: 'subscribe', resource: 'chat_messages', filter: { roomId: 'r1' } })).type, 'subscribed')
  await cat.request({ type: 'subscribe', resource: 'chat_messages', filter: { roomId: 'r2' } })
  await cat.request({ type: 'insert', resource: 'chat_messages', data: { roomId: 'r2', userId: 'cat', username: 'Cat', content: 'r2 only' } })
  const posted = await ben.request({ type: 'insert', resource: 'chat_messages', data: { roomId: 'r1', userId: 'ben', username: 'Ben', content: 'hello r1' } })
  t.equal(posted.type, 'inserted')
  const event = await ann.waitType('event')
  t.equal(event.data.content, 'hello r1')
  t.equal(ann.ofType('event').length, 0, 'the r2 message never reached ann')
  t.equal((await cat.waitType('event')).data.content, 'r2 only')
  t.equal(cat.ofType('event').length, 0, 'the r1 message never reached cat')

  await ben.request({ type: 'publish', channel: 'chat_messages', message: { roomId: 'r1', typing: 'ben' } })
  t.equal((await ann.waitType('message')).data.typing, 'ben', 'a room member gets the typing notice')
  await cat.request({ type: 'insert', resource: 'chat_messages', data: { roomId: 'r2', userId: 'cat', username: 'Cat', content: 'after' } })
  await cat.waitType('event')
  t.same(cat.ofType('message'), [], 'the r1 typing notice did not reach r2')
})
