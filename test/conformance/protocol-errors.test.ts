import t from 'tap'
import { buildApp } from '../helpers/app.js'

t.test('every protocol error leaves the socket usable', async (t) => {
  const { client } = await buildApp(t)
  const ws = await client()
  const cases: Array<[string, unknown, string]> = [
    ['not JSON', '{nope', 'INVALID_JSON'],
    ['not an object', '[1,2]', 'INVALID_REQUEST'],
    ['no type', { requestId: 'x' }, 'INVALID_REQUEST'],
    ['unknown type', { type: 'teleport' }, 'UNKNOWN_MESSAGE_TYPE'],
    ['missing resource', { type: 'subscribe' }, 'INVALID_REQUEST'],
    ['unknown field', { type: 'ping', extra: 1 }, 'INVALID_REQUEST'],
    ['non-string id', { type: 'get', resource: 'messages', id: 42 }, 'INVALID_REQUEST'],
    ['bad filter value', { type: 'subscribe', resource: 'messages', filter: { channel: [1, 2] } }, 'INVALID_REQUEST'],
    ['unknown resource', { type: 'subscribe', resource: 'secrets' }, 'RESOURCE_NOT_FOUND'],
    ['missing record', { type: 'get', resource: 'messages', id: 'nope' }, 'NOT_FOUND'],
    ['proto pollution', '{"type":"ping","__proto__":{"polluted":true}}', 'INVALID_REQUEST']
  ]
  for (const [label, message, code] of cases) {
    ws.send(message)
    const error = await ws.waitType('error')
    t.equal(error.code, code, label)
    t.type(error.message, 'string', `${label}: has a message`)
    const pong = await ws.request({ type: 'ping' })
    t.equal(pong.type, 'pong', `${label}: socket still usable`)
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution')
})

t.test('replies echo requestId, errors included', async (t) => {
  const { client } = await buildApp(t)
  const ws = await client()
  ws.send({ type: 'teleport', requestId: 'abc' })
  const error = await ws.waitType('error')
  t.equal(error.requestId, 'abc')
  ws.send({ type: 'ping', requestId: 7 })
  const pong = await ws.waitType('pong')
  t.equal(pong.requestId, 7)
})

t.test('a disabled resource answers RESOURCE_NOT_FOUND', async (t) => {
  const { client } = await buildApp(t, { resources: { messages: true, users: false } })
  const ws = await client()
  const reply = await ws.request({ type: 'list', resource: 'users' })
  t.equal(reply.code, 'RESOURCE_NOT_FOUND')
})

t.test('an oversized frame closes the socket with 1009', async (t) => {
  const { client } = await buildApp(t, { maxPayloadSize: 1024 })
  const ws = await client()
  ws.send({ type: 'insert', resource: 'messages', data: { content: 'x'.repeat(4000), channel: 'c' } })
  const closed = await ws.closed
  t.equal(closed.code, 1009)
  t.not(closed.reason, 'Server shutting down', 'not the 1001 reason: a client must not take it for a restart')
})

t.test('unsubscribe by id, by resource and filter, or by resource', async (t) => {
  const { client, db, app } = await buildApp(t)
  const ws = await client()
  const a = await ws.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'a' } })
  const b = await ws.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'b' } })
  await ws.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'c' } })
  const again = await ws.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'a' } })
  t.equal(again.subscriptionId, a.subscriptionId, 'subscribing twice to the same thing is idempotent')
  t.equal(app.realtime.getMetrics().subscriptions, 3)

  const byId = await ws.request({ type: 'unsubscribe', subscriptionId: a.subscriptionId })
  t.same([byId.type, byId.subscriptionIds], ['unsubscribed', [a.subscriptionId]])
  const byFilter = await ws.request({ type: 'unsubscribe', resource: 'messages', filter: { channel: 'b' } })
  t.same(byFilter.subscriptionIds, [b.subscriptionId])
  await (db.resources.messages as any).insert({ content: 'x', channel: 'a' })
  await (db.resources.messages as any).insert({ content: 'x', channel: 'c' })
  const event = await ws.waitType('event')
  t.equal(event.data.channel, 'c', 'only the remaining subscription delivers')
  const all = await ws.request({ type: 'unsubscribe', resource: 'messages' })
  t.equal(all.subscriptionIds.length, 1)
  t.equal(app.realtime.getMetrics().subscriptions, 0)
})

t.test('per-connection subscription limit', async (t) => {
  const { client } = await buildApp(t, { maxSubscriptionsPerConnection: 2 })
  const ws = await client()
  await ws.request({ type: 'subscribe', resource: 'messages', filter: { channel: '1' } })
  await ws.request({ type: 'subscribe', resource: 'messages', filter: { channel: '2' } })
  const third = await ws.request({ type: 'subscribe', resource: 'messages', filter: { channel: '3' } })
  t.equal(third.code, 'LIMIT_EXCEEDED')
})

t.test('binary frames carrying JSON are handled like text frames', async (t) => {
  const { client } = await buildApp(t)
  const ws = await client()
  ws.socket.send(Buffer.from(JSON.stringify({ type: 'ping', requestId: 'bin' })), { binary: true })
  const pong = await ws.waitFor((m) => m.requestId === 'bin')
  t.equal(pong.type, 'pong')
})

t.test('subscribing only to events the resource does not broadcast is INVALID_REQUEST', async (t) => {
  const { client } = await buildApp(t, { resources: { messages: { events: ['insert'] } } })
  const ws = await client()
  const reply = await ws.request({ type: 'subscribe', resource: 'messages', events: ['delete'] })
  t.equal(reply.code, 'INVALID_REQUEST')
  t.equal(reply.details.field, '/events')
})
