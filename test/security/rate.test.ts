import t from 'tap'
import { buildApp, sleep } from '../helpers/app.js'

t.test('message rate limit per socket: RATE_LIMIT_EXCEEDED past maxRequests; other sockets unaffected', async (t) => {
  const { client } = await buildApp(t, { rateLimit: { enabled: true, windowMs: 60_000, maxRequests: 5 } })
  const a = await client()
  const b = await client()
  for (let i = 0; i < 5; i++) t.equal((await a.request({ type: 'ping' })).type, 'pong')
  const limited = await a.request({ type: 'ping' })
  t.match(limited, { type: 'error', code: 'RATE_LIMIT_EXCEEDED', details: { limit: 5, windowMs: 60_000 } })
  t.ok(limited.details.retryAfterMs > 0 && limited.details.retryAfterMs <= 60_000)
  t.match(await a.request({ type: 'subscribe', resource: 'messages' }), { code: 'RATE_LIMIT_EXCEEDED' }, 'every type counts')
  for (let i = 0; i < 5; i++) t.equal((await b.request({ type: 'ping' })).type, 'pong', 'b has its own budget')
  t.equal(a.closeCode, null, 'one window over the limit does not close the socket')
})

t.test('junk counts too: unknown types and malformed messages use up the budget', async (t) => {
  const { client } = await buildApp(t, { rateLimit: { enabled: true, maxRequests: 3 } })
  const ws = await client()
  t.match(await ws.request({ type: 'no-such-type' }), { code: 'UNKNOWN_MESSAGE_TYPE' })
  t.match(await ws.request({ type: 7 }), { code: 'INVALID_REQUEST' })
  t.match(await ws.request({ type: '__proto__' }), { code: 'UNKNOWN_MESSAGE_TYPE' })
  t.match(await ws.request({ type: 'no-such-type' }), { code: 'RATE_LIMIT_EXCEEDED' })
})

t.test('a socket that keeps flooding across several windows is closed with 1008', async (t) => {
  const { client } = await buildApp(t, { rateLimit: { enabled: true, windowMs: 100, maxRequests: 3, closeAfterWindows: 3 } })
  const flooder = await client()
  const calm = await client()
  let closed = false
  void flooder.closed.then(() => { closed = true })
  for (let round = 0; round < 200 && !closed; round++) {
    for (let i = 0; i < 10; i++) flooder.send({ type: 'ping' })
    await sleep(20)
  }
  const { code } = await flooder.closed
  t.equal(code, 1008)
  t.ok(flooder.ofType('error').some((m) => m.code === 'RATE_LIMIT_EXCEEDED'), 'it was told before being closed')
  t.equal((await calm.request({ type: 'ping' })).type, 'pong', 'the other socket is unaffected')
})

t.test('off by default; invalid rateLimit options throw', async (t) => {
  const { client } = await buildApp(t)
  const ws = await client()
  const replies = await Promise.all(Array.from({ length: 200 }, async () => await ws.request({ type: 'ping' })))
  t.ok(replies.every((r) => r.type === 'pong'))
  for (const rateLimit of [{ enabled: 'yes' }, { windowMs: 0 }, { maxRequests: 1.5 }, { foo: 1 }, 3]) {
    await t.rejects(buildApp(t, { rateLimit } as never), { code: 'S3DB_REALTIME_INVALID_OPTION' }, JSON.stringify(rateLimit))
  }
})
