import t from 'tap'
import { buildApp, sleep } from '../helpers/app.js'
import type { Message, TestClient } from '../helpers/client.js'

// Issue #12 §6: the per-message rate limit counts every frame, including those refused before
// they become a message (not JSON, JSON that is not an object, a forbidden `__proto__` key).

const JUNK = ['1', '[]', 'null', 'not json', '{"type":"ping","__proto__":{"polluted":true}}']

async function nextError (ws: TestClient): Promise<Message> {
  return await ws.waitFor((m) => m.type === 'error' && m.requestId === undefined)
}

t.test('frames that are not JSON objects use up the budget, and past it get RATE_LIMIT_EXCEEDED', async (t) => {
  const { client } = await buildApp(t, { rateLimit: { enabled: true, windowMs: 60_000, maxRequests: JUNK.length } })
  const ws = await client()
  for (const frame of JUNK) {
    ws.send(frame)
    t.match(await nextError(ws), { code: /^INVALID_(JSON|REQUEST)$/ }, `${frame} is refused for what it is`)
  }
  ws.send('1')
  t.match(await nextError(ws), { code: 'RATE_LIMIT_EXCEEDED', details: { limit: JUNK.length } }, 'junk over the limit is refused as such')
  t.match(await ws.request({ type: 'ping' }), { code: 'RATE_LIMIT_EXCEEDED' }, 'the junk counted toward the same budget')
})

t.test('a socket flooding only junk across several windows is closed with 1008', async (t) => {
  const { client } = await buildApp(t, { rateLimit: { enabled: true, windowMs: 100, maxRequests: 3, closeAfterWindows: 3 } })
  const flooder = await client()
  let closed = false
  void flooder.closed.then(() => { closed = true })
  for (let round = 0; round < 200 && !closed; round++) {
    for (const frame of JUNK) flooder.send(frame)
    await sleep(20)
  }
  t.ok(closed, 'the flooder was closed')
  t.equal(flooder.closeCode, 1008)
  t.ok(flooder.ofType('error').some((m) => m.code === 'RATE_LIMIT_EXCEEDED'), 'it was told before being closed')
})
