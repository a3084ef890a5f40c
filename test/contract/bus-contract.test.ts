import t from 'tap'
import { Redis } from 'ioredis'
import { MemoryBroker, MemoryBus } from '../../src/bus/memory.js'
import { RedisBus } from '../../src/bus/redis.js'
import { busClock, type Bus, type Envelope } from '../../src/bus/types.js'
import { startRedis } from '../helpers/redis.js'
import { until } from '../helpers/wait.js'
import { busContract, type BusFactory } from '../helpers/bus-contract.js'

const memory: BusFactory = async (t, historySize) => {
  const broker = new MemoryBroker(historySize)
  const buses: [Bus, Bus] = [new MemoryBus({ broker, nodeId: 'a' }), new MemoryBus({ broker, nodeId: 'b' })]
  t.teardown(async () => { for (const bus of buses) await bus.close() })
  return buses
}

const redis: BusFactory = async (t, historySize) => {
  const server = await startRedis(t)
  const buses: [Bus, Bus] = [
    new RedisBus({ url: server.url, nodeId: 'a', historySize }),
    new RedisBus({ url: server.url, nodeId: 'b', historySize })
  ]
  t.teardown(async () => { for (const bus of buses) await bus.close() })
  for (const bus of buses) await bus.start()
  return buses
}

busContract('memory', memory)
busContract('redis', redis)

t.test('redis bus closes only the connections it created', async (t) => {
  const server = await startRedis(t)
  const client = new Redis(server.url)
  t.teardown(() => { client.disconnect() })
  const bus = new RedisBus({ client, nodeId: 'owned' })
  await bus.start()
  const got: Envelope[] = []
  await bus.subscribe('t', (e) => { got.push(e) })
  await bus.publish('t', 'hi')
  await until(() => got.length === 1, 'a message through the duplicated subscriber')
  await bus.close()
  t.equal(client.status, 'ready', 'the caller-owned client is still open')
  t.equal(await client.ping(), 'PONG')
})

t.test('redis bus: an append that waited in a frozen Redis past its deadline is refused when Redis wakes', async (t) => {
  const server = await startRedis(t)
  const bus = new RedisBus({ url: server.url, nodeId: 'frozen', commandTimeout: 10_000 })
  t.teardown(async () => { await bus.close() })
  await bus.start()
  server.pause()
  t.teardown(() => { server.resume() })
  const pending = bus.append('log:f', 'frozen', { id: 'f1', deadline: busClock() + 200 })
  await new Promise((resolve) => setTimeout(resolve, 400)) // the deadline passes while Redis sleeps
  server.resume()
  await t.rejects(pending, { name: 'AppendRefusedError', reason: 'deadline' }, 'refused by Redis itself, on its own clock')
  t.equal((await bus.head('log:f')).lastSeq, 0, 'not numbered')
  const made = await bus.append('log:f', 'in time', { id: 'f2', deadline: busClock() + 5000 })
  t.equal(made.seq, 1, 'an append within its deadline is numbered')
})

t.test('redis bus reports health changes when redis goes away and comes back', async (t) => {
  const server = await startRedis(t)
  const bus = new RedisBus({ url: server.url, nodeId: 'h' })
  t.teardown(async () => { await bus.close() })
  const changes: boolean[] = []
  const removed: boolean[] = []
  bus.onHealthChange((healthy) => { changes.push(healthy) })
  const stop = bus.onHealthChange((healthy) => { removed.push(healthy) })
  stop()
  await bus.start()
  const got: Envelope[] = []
  await bus.subscribe('t', (e) => { got.push(e) })
  await server.stop()
  await until(() => !bus.healthy(), 'unhealthy after redis died')
  await t.rejects(bus.append('log:t', 1), 'commands fail fast while redis is away')
  await server.start()
  await until(() => bus.healthy(), 'healthy after redis came back')
  t.same(changes.slice(-2), [false, true])
  t.same(removed, [], 'a removed listener hears nothing')
  await bus.publish('t', 'again')
  await until(() => got.length === 1, 'subscriptions restored after reconnect')
})
