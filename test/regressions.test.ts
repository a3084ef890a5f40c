import t from 'tap'
import { buildApp, sleep } from './helpers/app.js'

// Regressions found in review; each test is named after the bug it pins down.

t.test('a socket that closes while its subscribe guard runs leaves no subscription behind', async (t) => {
  let release: () => void = () => {}
  const guardRunning = new Promise<void>((resolve) => { release = resolve })
  let entered: () => void = () => {}
  const inGuard = new Promise<void>((resolve) => { entered = resolve })
  const { client, app } = await buildApp(t, {
    resources: { messages: { guard: { subscribe: async () => { entered(); await guardRunning; return true } } } }
  })
  const ws = await client()
  ws.send({ type: 'subscribe', resource: 'messages', requestId: 's' })
  await inGuard
  ws.close()
  await ws.closed
  await sleep(20)
  release()
  await sleep(50)
  t.equal(app.realtime.getMetrics().subscriptions, 0, 'nothing left in the index')
  t.equal(app.realtime.getServerInfo().clients, 0)
})

t.test('an application listener that throws neither crashes the server nor stops other listeners', async (t) => {
  const { client, app } = await buildApp(t)
  const seen: string[] = []
  app.realtime.on('client.disconnected', () => { throw new Error('listener bug') })
  app.realtime.on('client.disconnected', ({ clientId }) => { seen.push(clientId) })
  app.realtime.on('client.connected', () => { throw new Error('listener bug') })
  const ws = await client()
  const pong = await ws.request({ type: 'ping' })
  t.equal(pong.type, 'pong', 'a throwing client.connected listener did not break the connection')
  ws.close()
  await ws.closed
  await sleep(20)
  t.equal(seen.length, 1, 'the second listener still ran')
  const again = await client()
  t.equal((await again.request({ type: 'ping' })).type, 'pong', 'server still serving')
  t.ok(app.realtime.getMetrics().errors >= 2, 'the failures were counted')
})
