import t from 'tap'
import type { Message, TestClient } from '../helpers/client.js'
import { startRedis } from '../helpers/redis.js'
import { until } from '../helpers/wait.js'
import { twoNodes } from '../helpers/cluster.js'
import { partsOf } from '../helpers/hub.js'

const eventsOf = (client: TestClient): Message[] => client.received.filter((m) => m.type === 'event')

t.test('Redis outage: local clients keep being served, readiness fails, and the gap is RESYNC_REQUIRED', async (t) => {
  const redis = await startRedis(t)
  const [a, b] = await twoNodes(t, (nodeId) => ({ redis: redis.url, nodeId, health: true }))
  const onA = await a.client()
  const onB = await b.client()
  const sub = await onA.request({ type: 'subscribe', resource: 'messages' })
  await onB.request({ type: 'subscribe', resource: 'messages' })
  await a.db.resources.messages!.insert({ id: 'one', content: 'before', channel: 'g' })
  const first = await onB.waitType('event')
  await onA.waitType('event')
  const ready = async (app: typeof a): Promise<number> => (await app.app.inject({ method: 'GET', url: '/health/ready' })).statusCode

  t.equal(await ready(a), 200, 'ready with Redis up')
  await redis.stop()
  await until(() => !a.app.realtime.busHealthy(), 'the bus to be reported down')
  const report = await a.app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(report.statusCode, 503, 'not ready while Redis is away')
  t.equal(report.json().checks.bus.status, 'unhealthy', 'the bus check says why')

  await a.db.resources.messages!.insert({ id: 'two', content: 'during', channel: 'g' })
  const during = await onA.waitType('event')
  t.equal(during.data.id, 'two', 'a local client still gets changes made on its instance')

  await redis.start()
  await until(() => a.app.realtime.busHealthy() && b.app.realtime.busHealthy(), 'both instances back in the cluster')
  await until(async () => await ready(a) === 200, 'ready again')
  const pushed = await onB.waitFor((m) => m.type === 'error' && m.code === 'RESYNC_REQUIRED')
  t.equal(pushed.details.resource, 'messages', 'a client elsewhere learns it missed changes instead of missing them silently')
  await onA.waitFor((m) => m.type === 'error' && m.code === 'RESYNC_REQUIRED')

  const late = await b.client()
  const resumed = await late.request({ type: 'subscribe', resource: 'messages', since: first.seq, epoch: sub.epoch })
  t.equal(resumed.code, 'RESYNC_REQUIRED', 'resuming across the outage asks for a re-list')

  onA.received.length = 0
  onB.received.length = 0
  await b.db.resources.messages!.insert({ id: 'three', content: 'after', channel: 'g' })
  const [x, y] = [await onA.waitType('event'), await onB.waitType('event')]
  t.equal(x.data.id, 'three', 'the cluster works again')
  t.equal(x.seq, y.seq, 'one numbering again')
  t.equal(partsOf(a.app).stream.epoch, partsOf(b.app).stream.epoch, 'one epoch again')
  t.not(partsOf(a.app).stream.epoch, sub.epoch, 'a new epoch')
  t.equal(eventsOf(onB).length, 0, 'no duplicate')
})
