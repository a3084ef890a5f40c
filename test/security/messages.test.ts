import t from 'tap'
import { buildApp } from '../helpers/app.js'

const nested = (depth: number): unknown => {
  let value: unknown = 'leaf'
  for (let i = 0; i < depth; i++) value = { a: value }
  return value
}

t.test('__proto__ / constructor keys are refused and pollute nothing', async (t) => {
  const { client, db } = await buildApp(t)
  const ws = await client()
  const frames = [
    '{"type":"ping","requestId":"p1","__proto__":{"polluted":true}}',
    '{"type":"list","requestId":"p2","resource":"messages","filter":{"__proto__":{"polluted":true}}}',
    '{"type":"insert","requestId":"p3","resource":"messages","data":{"content":"x","channel":"y","__proto__":{"polluted":true}}}',
    '{"type":"insert","requestId":"p4","resource":"messages","data":{"content":"x","channel":"y","constructor":{"prototype":{"polluted":true}}}}',
    '{"type":"subscribe","requestId":"p5","resource":"messages","filter":{"constructor":{"prototype":{"polluted":true}}}}'
  ]
  for (const [i, frame] of frames.entries()) {
    ws.send(frame)
    const reply = await ws.waitFor((m) => m.requestId === `p${i + 1}` || (m.type === 'error' && m.requestId === undefined))
    t.match(reply, { type: 'error', code: 'INVALID_REQUEST' }, frame.slice(0, 60))
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched')
  t.equal((Object.prototype as unknown as Record<string, unknown>).polluted, undefined)
  t.same((await ws.request({ type: 'list', resource: 'messages' })).data, [], 'nothing was inserted')
  t.equal((await db.resources.messages!.list()).length, 0)
})

t.test('deep nesting, huge arrays, too many filter keys, non-string ids, unknown fields: INVALID_REQUEST', async (t) => {
  const { client } = await buildApp(t)
  const ws = await client()
  const cases: Record<string, Record<string, unknown>> = {
    'deeply nested data': { type: 'insert', resource: 'messages', data: { content: 'x', channel: 'y', meta: nested(64) } },
    'nested filter past 8 levels': { type: 'list', resource: 'messages', filter: nested(12) as Record<string, unknown> },
    'huge array in filter': { type: 'list', resource: 'messages', filter: { channel: Array.from({ length: 50_000 }, (_, i) => `c${i}`) } },
    'array as filter': { type: 'subscribe', resource: 'messages', filter: ['a', 'b'] },
    'too many filter keys': { type: 'list', resource: 'messages', filter: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`f${i}`, i])) },
    'numeric id': { type: 'get', resource: 'messages', id: 5 },
    'object id': { type: 'delete', resource: 'messages', id: { $gt: '' } },
    'array id': { type: 'update', resource: 'messages', id: ['a'], data: {} },
    'empty id': { type: 'get', resource: 'messages', id: '' },
    'unknown top-level field': { type: 'ping', admin: true },
    'unknown field on list': { type: 'list', resource: 'messages', where: { x: 1 } },
    'events not a list': { type: 'subscribe', resource: 'messages', events: 'insert' },
    'unknown event': { type: 'subscribe', resource: 'messages', events: ['truncate'] },
    'negative limit': { type: 'list', resource: 'messages', limit: -1 },
    'huge resource name': { type: 'list', resource: 'r'.repeat(10_000) },
    'data not an object': { type: 'insert', resource: 'messages', data: 'x' }
  }
  for (const [name, message] of Object.entries(cases)) {
    const reply = await ws.request(message)
    t.match(reply, { type: 'error', code: 'INVALID_REQUEST' }, name)
    t.ok(JSON.stringify(reply).length < 2000, `${name}: the reply does not echo the payload back`)
  }
  for (const depth of [5_000, 100_000]) {
    // Built as text: the point is what the server does with it, not what a client can encode.
    ws.send(`{"type":"list","resource":"messages","filter":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`)
    const reply = await ws.waitType('error')
    t.ok(reply.code === 'INVALID_REQUEST' || reply.code === 'INVALID_JSON', `${depth} levels: ${String(reply.code)}`)
  }
  t.equal((await ws.request({ type: 'ping' })).type, 'pong', 'the socket is still usable')
})

t.test('per-socket subscription and channel limits answer LIMIT_EXCEEDED instead of growing', async (t) => {
  const { client, app } = await buildApp(t, { maxSubscriptionsPerConnection: 3, channels: { maxChannelsPerConnection: 2 } })
  const ws = await client()
  for (let i = 0; i < 3; i++) t.equal((await ws.request({ type: 'subscribe', resource: 'messages', filter: { channel: `c${i}` } })).type, 'subscribed')
  for (let i = 3; i < 50; i++) {
    const reply = await ws.request({ type: 'subscribe', resource: 'messages', filter: { channel: `c${i}` } })
    if (reply.code !== 'LIMIT_EXCEEDED') t.fail(`subscription ${i} was not refused: ${JSON.stringify(reply)}`)
  }
  t.equal(app.realtime.getMetrics().subscriptions, 3, 'the server holds three subscriptions, not fifty')
  const other = await client()
  t.equal((await other.request({ type: 'subscribe', resource: 'messages' })).type, 'subscribed', 'the limit is per socket')

  t.equal((await ws.request({ type: 'join', channel: 'room-1' })).type, 'channel:joined')
  t.equal((await ws.request({ type: 'join', channel: 'room-2' })).type, 'channel:joined')
  t.match(await ws.request({ type: 'join', channel: 'room-3' }), { type: 'error', code: 'LIMIT_EXCEEDED' })
})
