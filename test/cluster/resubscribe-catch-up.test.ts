import { randomUUID } from 'node:crypto'
import t from 'tap'
import { Redis } from 'ioredis'
import { MemoryBroker, MemoryBus } from '../../src/bus/memory.js'
import type { EnvelopeHandler, Unsubscribe } from '../../src/bus/types.js'
import { buildApp } from '../helpers/app.js'
import type { Message, TestClient } from '../helpers/client.js'
import { twoNodes } from '../helpers/cluster.js'
import { createDatabase } from '../helpers/db.js'
import { startRedis } from '../helpers/redis.js'
import { until } from '../helpers/wait.js'

const idsOf = (client: TestClient): string[] => client.received.filter((m: Message) => m.type === 'event').map((m) => m.data.id as string)

/**
 * A subscriber connection whose SUBSCRIBE commands can be held back: a slow re-SUBSCRIBE after a
 * reconnect (ioredis re-subscribes on its own once the connection is ready again).
 */
class HeldSubscriber extends Redis {
  private holding = false
  private readonly held: Array<() => void> = []
  private onHeld: (() => void) | null = null

  /** Holds every SUBSCRIBE from now on; resolves once one is held. */
  async hold (): Promise<void> {
    this.holding = true
    await new Promise<void>((resolve) => { this.onHeld = resolve })
  }

  release (): void {
    this.holding = false
    for (const send of this.held.splice(0)) send()
  }

  override subscribe (...args: [...channels: Array<string | Buffer>, callback: (error?: Error | null, result?: unknown) => void]): Promise<unknown>
  override subscribe (...args: Array<string | Buffer>): Promise<unknown>
  override subscribe (...args: Array<string | Buffer | ((error?: Error | null, result?: unknown) => void)>): Promise<unknown> {
    const channels = args.filter((arg): arg is string | Buffer => typeof arg !== 'function') // ioredis passes no callback here
    if (!this.holding) return super.subscribe(...channels)
    return new Promise((resolve, reject) => {
      this.held.push(() => { super.subscribe(...channels).then(resolve, reject) })
      this.onHeld?.()
    })
  }
}

t.test('after a pub/sub reconnect, a change published before the re-SUBSCRIBE took effect still arrives, though nothing follows it', async (t) => {
  const redis = await startRedis(t)
  const client = new Redis(redis.url)
  const subscriber = new HeldSubscriber(redis.url, { connectionName: 'held-subscriber' })
  const admin = new Redis(redis.url)
  t.teardown(() => { for (const c of [client, subscriber, admin]) c.disconnect() })
  const [a, b] = await twoNodes(t, (nodeId) => ({ nodeId, redis: nodeId === 'a' ? redis.url : { client, subscriber } }))
  const watcher = await b.client()
  await watcher.request({ type: 'subscribe', resource: 'messages' })
  await a.db.resources.messages!.insert({ id: 'before', content: '0', channel: 'g' })
  await until(() => idsOf(watcher).includes('before'), 'the first change on b')

  const holding = subscriber.hold()
  const list = await admin.client('LIST') as string
  const id = /id=(\d+) [^\n]*name=held-subscriber/.exec(list)?.[1]
  t.ok(id, 'found b\'s subscriber connection')
  await admin.client('KILL', 'ID', id as string)
  await holding // b's subscriber is connected again; its SUBSCRIBE is not answered yet
  // Give b the time it takes to read the log if it does so now, before its SUBSCRIBE is
  // answered (before the fix it does: ioredis reports 'ready' a tick after the reconnect).
  await new Promise((resolve) => setTimeout(resolve, 200))
  await until(() => b.app.realtime.busHealthy(), 'b to call itself healthy', 1000).catch(() => {})
  await a.db.resources.messages!.insert({ id: 'during', content: '1', channel: 'g' })
  subscriber.release()

  // Nothing else is written: the change must come without a later one revealing the gap.
  await until(() => idsOf(watcher).includes('during'), 'the change published while b\'s re-SUBSCRIBE was held', 10_000)
  t.same(idsOf(watcher), ['before', 'during'], 'each once, in order')
  await until(() => b.app.realtime.busHealthy(), 'b healthy again')
})

/** A bus node that loses the next change message on the wire (the log still has it). */
class LossyBus extends MemoryBus {
  dropNext = false

  override async subscribe (topic: string, handler: EnvelopeHandler): Promise<Unsubscribe> {
    return await super.subscribe(topic, (envelope) => {
      if (this.dropNext && topic.startsWith('change:')) {
        this.dropNext = false
        return
      }
      handler(envelope)
    })
  }
}

t.test('a change message lost on the wire is found from the log head without waiting for a later change', async (t) => {
  const broker = new MemoryBroker()
  const bucket = `memory://lossy-${randomUUID()}/db`
  const a = await buildApp(t, { bus: new MemoryBus({ broker, nodeId: 'a' }) }, { db: await createDatabase(t, { connectionString: bucket }) })
  const lossy = new LossyBus({ broker, nodeId: 'b' })
  const b = await buildApp(t, { bus: lossy }, { db: await createDatabase(t, { connectionString: bucket }) })
  const watcher = await b.client()
  await watcher.request({ type: 'subscribe', resource: 'messages' })
  lossy.dropNext = true
  await a.db.resources.messages!.insert({ id: 'lost', content: '0', channel: 'g' })
  await until(() => idsOf(watcher).includes('lost'), 'the lost message recovered from the log', 10_000)
  t.same(idsOf(watcher), ['lost'], 'delivered once')
  t.same(watcher.ofType('error'), [], 'no resync: the log still had it')
})
