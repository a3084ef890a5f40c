import t from 'tap'
import { buildApp, sleep } from '../helpers/app.js'

// Regression: an application event listener that threw crashed the process.
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
