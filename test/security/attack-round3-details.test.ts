import t from 'tap'
import { buildApp } from '../helpers/app.js'

// Attack review round 3, the smaller findings: a forbidden-key frame's error lost its requestId,
// filter paths had no length bound, a batch counted as one frame against rateLimit, and a
// `since` beyond a single instance's last seq blamed a cluster it does not have.

t.test('a frame with a __proto__ or constructor key is refused with its requestId echoed', async (t) => {
  const { client } = await buildApp(t)
  const ws = await client()
  for (const [requestId, frame] of [
    ['p1', '{"type":"ping","requestId":"p1","__proto__":{"polluted":true}}'],
    ['p2', '{"type":"insert","requestId":"p2","resource":"messages","data":{"content":"x","channel":"y","constructor":{"prototype":{"x":1}}}}'],
    [7, '{"__proto__":{"requestId":"wrong"},"type":"ping","requestId":7}']
  ] as const) {
    ws.send(frame)
    const reply = await ws.waitFor((m) => m.type === 'error')
    t.match(reply, { code: 'INVALID_REQUEST', requestId }, `requestId ${requestId} echoed`)
  }
  ws.send('{"type":"ping","__proto__":{"requestId":"from-proto"}}')
  const bare = await ws.waitFor((m) => m.type === 'error')
  t.equal(bare.requestId, undefined, 'a requestId only inside the forbidden key is not read')
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched')
})

t.test('filter paths are capped at 256 characters, like fields paths', async (t) => {
  const { client } = await buildApp(t)
  const ws = await client()
  const long = 'k'.repeat(257)
  for (const filter of [{ [long]: 1 }, { a: { [long.slice(2)]: 1 } }, { ['x'.repeat(500_000)]: 1 }]) {
    for (const type of ['list', 'subscribe'] as const) {
      const reply = await ws.request({ type, resource: 'messages', filter })
      t.match(reply, { type: 'error', code: 'INVALID_REQUEST', details: { field: '/filter' } }, `${type} with a ${Object.keys(filter)[0]?.length}-character key`)
      t.ok(JSON.stringify(reply).length < 1000, 'the path is not echoed whole')
    }
  }
  t.equal((await ws.request({ type: 'list', resource: 'messages', filter: { ['k'.repeat(256)]: 1 } })).type, 'data', '256 characters are fine')
})

t.test('rateLimit: each batch item counts as a request', async (t) => {
  const { client, db } = await buildApp(t, { rateLimit: { enabled: true, windowMs: 60_000, maxRequests: 5, closeAfterWindows: 3 } })
  const ws = await client()
  const reply = await ws.request({ type: 'insertMany', resource: 'messages', data: Array.from({ length: 8 }, (_, i) => ({ content: `m${i}`, channel: 'c' })) })
  t.same(reply.results.map((r: { ok: boolean, error?: { code: string } }) => r.ok ? 'ok' : r.error?.code),
    ['ok', 'ok', 'ok', 'ok', 'ok', 'RATE_LIMIT_EXCEEDED', 'RATE_LIMIT_EXCEEDED', 'RATE_LIMIT_EXCEEDED'], 'the sixth item on is over the limit of 5')
  t.equal((await db.resources.messages!.list()).length, 5, 'items over the limit were not written')
  t.match(await ws.request({ type: 'ping' }), { type: 'error', code: 'RATE_LIMIT_EXCEEDED' }, 'the next frame is over the limit too')
  const ids = (await db.resources.messages!.list()).map((m) => m.id as string)
  const fresh = await client()
  const deleted = await fresh.request({ type: 'deleteMany', resource: 'messages', ids })
  t.same(deleted.results.map((r: { ok: boolean }) => r.ok), [true, true, true, true, true], 'deleteMany within the limit')
  const over = await fresh.request({ type: 'deleteMany', resource: 'messages', ids: ['a', 'b'] })
  t.match(over, { code: 'RATE_LIMIT_EXCEEDED' }, 'the batch used the socket\'s budget')
})

t.test('since beyond a single instance\'s last seq says so, not "cut off from the cluster"', async (t) => {
  const { client } = await buildApp(t)
  const ws = await client()
  for (const since of [1e300, 2 ** 41, 5]) {
    const reply = await ws.request({ type: 'subscribe', resource: 'messages', since })
    t.match(reply, { type: 'error', code: 'RESYNC_REQUIRED' }, `since ${since}`)
    t.notMatch(reply.message, /cluster|cut off/, 'no cluster in the message')
    t.match(reply.message, /beyond this server/)
  }
})
