import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { connect, type Message, type TestClient } from '../helpers/client.js'
import { RedisLink, startRedis } from '../helpers/redis.js'
import { spawnTs } from '../helpers/spawn.js'
import { until } from '../helpers/wait.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/cluster-node.ts', import.meta.url))

/** One clustered instance in its own process (test/fixtures/cluster-node.ts); returns its port. */
async function startNode (t: Test, env: Record<string, string>): Promise<number> {
  const node = await spawnTs(t, FIXTURE, [], env, false)
  const line = await node.waitLine('{"port"')
  return (JSON.parse(line) as { port: number }).port
}

async function open (t: Test, port: number): Promise<TestClient> {
  const { client } = await connect(`ws://127.0.0.1:${port}/ws`)
  t.teardown(() => { client.close() })
  return client
}

/**
 * The position a client following PROTOCOL.md holds: the epoch of its `subscribed` reply or of
 * the last pushed RESYNC_REQUIRED, and the seq of the last event (or of that RESYNC).
 */
function positionOf (messages: Message[]): { epoch: string, seq: number } {
  let epoch = ''
  let seq = 0
  for (const m of messages) {
    if (m.type === 'subscribed') [epoch, seq] = [m.epoch, m.seq]
    else if (m.type === 'error' && m.code === 'RESYNC_REQUIRED') [epoch, seq] = [m.details.epoch, m.details.seq]
    else if (m.type === 'event') seq = m.seq
  }
  return { epoch, seq }
}

t.test('an instance cut off from Redis numbers alone: its clients never hold a position that names another change elsewhere', async (t) => {
  const redis = await startRedis(t)
  const link = await RedisLink.start(t, redis)
  const dir = await mkdtemp(join(tmpdir(), 's3db-realtime-alone-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const env = (id: string, url: string): Record<string, string> => ({ BUCKET: `file://${dir}`, REDIS_URL: url, NODE_ID: id, PRESENCE_LEASE: '300' })
  const a = await startNode(t, env('a', link.url)) // a reaches Redis through the link the test cuts
  const b = await startNode(t, env('b', redis.url))
  const [watcher, writerA, writerB] = [await open(t, a), await open(t, a), await open(t, b)]
  const log: Message[] = []
  watcher.socket.on('message', (data) => { log.push(JSON.parse(data.toString()) as Message) })
  await watcher.request({ type: 'subscribe', resource: 'messages' })

  const insert = async (writer: TestClient, id: string): Promise<void> => {
    const reply = await writer.request({ type: 'insert', resource: 'messages', data: { id, content: id, channel: 'g' } })
    if (reply.type !== 'inserted') throw new Error(JSON.stringify(reply))
  }
  await insert(writerB, 'one') // cluster seq 1
  await until(() => log.some((m) => m.type === 'event' && m.data.id === 'one'), 'write one on the client of a')

  link.cut()
  await until(async () => (await fetch(`http://127.0.0.1:${a}/health/ready`)).status === 503, 'a to see Redis gone')
  await insert(writerA, 'two') // a numbers it alone
  await until(() => log.some((m) => m.type === 'event' && m.data.id === 'two'), 'write two on the client of a (served alone)')
  await insert(writerB, 'three') // the cluster's own next seq
  const held = positionOf(log)

  // The client moves to b with the position it holds.
  const moved = await open(t, b)
  const reply = await moved.request({ type: 'subscribe', resource: 'messages', since: held.seq, epoch: held.epoch })
  if (reply.type === 'subscribed') {
    await until(() => moved.received.some((m) => m.type === 'event' && m.data.id === 'three'), `b to replay write three after ${JSON.stringify(held)} instead of skipping it`, 3000)
      .catch((error: Error) => { t.fail(error.message) })
  } else {
    t.equal(reply.code, 'RESYNC_REQUIRED', 'b refuses the position: it names another numbering')
  }
  t.pass(`held ${JSON.stringify(held)}; b answered ${String(reply.type)} ${String(reply.code ?? '')}`)
})
