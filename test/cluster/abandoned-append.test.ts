import t from 'tap'
import type { Message, TestClient } from '../helpers/client.js'
import { twoNodes } from '../helpers/cluster.js'
import { startRedis } from '../helpers/redis.js'
import { until } from '../helpers/wait.js'

const contentsOf = (client: TestClient, id: string): string[] =>
  client.received.filter((m) => m.type === 'event' && m.data?.id === id).map((m) => m.data.content as string)
const isResync = (m: Message): boolean => m.type === 'error' && m.code === 'RESYNC_REQUIRED'

t.test('an append its writer gave up on during a Redis freeze is not numbered when Redis thaws: no v2 then v1', async (t) => {
  const redis = await startRedis(t)
  // a gives up on Redis quickly; b waits for it (so b's append is still running at the thaw).
  const [a, b] = await twoNodes(t, (nodeId) => ({ redis: { url: redis.url, commandTimeout: nodeId === 'a' ? 100 : 20_000 }, nodeId }))
  const onA = await a.client()
  const onB = await b.client()
  await onA.request({ type: 'subscribe', resource: 'messages' })
  await onB.request({ type: 'subscribe', resource: 'messages' })
  await a.db.resources.messages!.insert({ id: 'x', content: 'v0', channel: 'g' })
  await until(() => contentsOf(onA, 'x').length === 1 && contentsOf(onB, 'x').length === 1, 'v0 on both instances')
  onA.received.length = 0
  onB.received.length = 0

  redis.pause()
  t.teardown(() => { redis.resume() })
  // Something of b's reaches the frozen Redis first (a relayed broadcast on b's command
  // connection), so at the thaw Redis reads b's connection before a's.
  b.app.realtime.broadcast({ note: 'b was here first' })
  await new Promise((resolve) => setTimeout(resolve, 50))

  // v1: a's append reaches the frozen Redis; a gives up on it and serves its own client alone.
  await a.db.resources.messages!.update('x', { content: 'v1' })
  await until(() => contentsOf(onA, 'x').includes('v1'), 'a to give up and deliver v1 to its own client', 20_000)

  // v2, written after v1 was acknowledged (it causally follows), through b.
  const v2 = b.db.resources.messages!.update('x', { content: 'v2' })
  await new Promise((resolve) => setTimeout(resolve, 200)) // b's append is on the wire
  redis.resume()
  await v2
  // a announces its lone delivery once Redis answers again (an epoch rotation): by then every
  // append sent before it (v1's included) has run.
  await until(() => onB.received.some(isResync), 'the resync a announces after the thaw', 20_000)

  const seen = contentsOf(onB, 'x')
  t.ok(seen.includes('v2'), `b's client got v2 (got ${seen.join(', ')})`)
  t.notOk(seen.slice(seen.indexOf('v2') + 1).includes('v1'), `v1 never arrives after v2 (got ${seen.join(', ')})`)
})
