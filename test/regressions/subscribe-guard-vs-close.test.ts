import t from 'tap'
import { buildApp, sleep } from '../helpers/app.js'

// Regression: a subscription registered after its socket closed stayed in the index.
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
