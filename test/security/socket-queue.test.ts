import t, { type Test } from 'tap'
import type { RealtimeOptions } from '../../src/index.js'
import { buildApp, type TestApp } from '../helpers/app.js'
import type { TestClient } from '../helpers/client.js'
import { until } from '../helpers/wait.js'
import { partsOf } from '../helpers/hub.js'

// Issue #12 §6: frames queued behind a slow handler are bounded per socket, in count and in
// bytes; past either bound the socket is closed with 1013 'Too many queued messages' and the
// frames still queued never run.

/** An app whose `create` guard on messages waits until the test releases it. */
type SlowGuardApp = TestApp & { guardCalls: () => number, release: () => void }

async function slowGuardApp (t: Test, options: Partial<RealtimeOptions>): Promise<SlowGuardApp> {
  let calls = 0
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  const app = await buildApp(t, {
    ...options,
    resources: { messages: { guard: { create: async () => { calls++; await gate; return true } } } }
  })
  t.teardown(() => { release() })
  return { ...app, guardCalls: () => calls, release: () => { release() } }
}

/**
 * Sends insert 0, waits until it sits in the slow guard, queues inserts 1..count-1 behind it and
 * checks the socket is closed with 1013 and that no queued insert ran once the guard lets go.
 */
async function overflowBehindGuard (t: Test, app: SlowGuardApp, ws: TestClient, insert: (i: number) => void, count: number): Promise<void> {
  insert(0)
  await until(() => app.guardCalls() === 1, 'the first insert to wait in its guard')
  for (let i = 1; i < count; i++) insert(i)
  await until(() => ws.closeCode !== null, 'the server to close the socket')
  t.match({ code: ws.closeCode, reason: ws.closeReason }, { code: 1013, reason: 'Too many queued messages' })
  t.equal(app.guardCalls(), 1, 'only the frame already in its handler got that far')
  app.release()
  await until(() => partsOf(app.app).hub.connections.size === 0, 'the server to forget the socket')
  const stored = await app.db.resources.messages!.list() as unknown as Array<{ content: string }>
  t.ok(stored.every((r) => r.content === 'm0' || r.content.startsWith('m0-')), 'no frame queued behind it was executed')
}

t.test('more frames than maxQueuedMessages behind a slow guard: 1013, and the queued ones never run', async (t) => {
  const app = await slowGuardApp(t, { maxQueuedMessages: 8 })
  const ws = await app.client()
  for (let round = 0; round < 3; round++) {
    const replies = await Promise.all(Array.from({ length: 8 }, async () => await ws.request({ type: 'ping' })))
    t.ok(replies.every((r) => r.type === 'pong'), `round ${round}: 8 pipelined requests are within the bound`)
  }
  const insert = (i: number): void => { ws.send({ type: 'insert', resource: 'messages', data: { content: `m${i}`, channel: 'general' } }) }
  await overflowBehindGuard(t, app, ws, insert, 40)
})

t.test('more bytes than maxQueuedBytes behind a slow guard: 1013 before the heap holds them', async (t) => {
  const app = await slowGuardApp(t, { maxPayloadSize: 64 * 1024, maxQueuedBytes: 128 * 1024 })
  const ws = await app.client()
  // ~40 KiB each: the fourth would put ~160 KiB in the queue.
  const insert = (i: number): void => { ws.send({ type: 'insert', resource: 'messages', data: { content: `m${i}-${'x'.repeat(40 * 1024)}`, channel: 'general' } }) }
  await overflowBehindGuard(t, app, ws, insert, 6)
})

t.test('invalid maxQueuedMessages / maxQueuedBytes throw a coded error at register', async (t) => {
  const bad: Array<Partial<RealtimeOptions>> = [
    { maxQueuedMessages: 0 },
    { maxQueuedMessages: 1.5 },
    { maxQueuedMessages: '8' as never },
    { maxQueuedBytes: -1 },
    { maxPayloadSize: 64 * 1024, maxQueuedBytes: 32 * 1024 }
  ]
  for (const options of bad) {
    await t.rejects(buildApp(t, options), { code: 'S3DB_REALTIME_INVALID_OPTION', message: /maxQueued\w+ must be an integer >= \d+/ }, JSON.stringify(options))
  }
  const { client } = await buildApp(t, { maxQueuedMessages: 1, maxQueuedBytes: 1024 * 1024 })
  const ws = await client()
  t.equal((await ws.request({ type: 'ping' })).type, 'pong', 'the smallest valid bounds still serve one request at a time')
})
