import net from 'node:net'
import t from 'tap'
import { Redis } from 'ioredis'
import { RedisBus } from '../../src/bus/redis.js'
import type { Envelope } from '../../src/bus/types.js'
import { ChangeNumbering } from '../../src/cluster/numbering.js'
import { startRedis } from '../helpers/redis.js'

t.test('an append whose reply was lost with the connection is not made twice when ioredis re-sends it', async (t) => {
  const redis = await startRedis(t)
  const target = new URL(redis.url)
  // A proxy that, once armed, lets the next EVALSHA reach Redis and then cuts the connection
  // before the reply gets back: Redis ran it, the client never heard.
  let armed = false
  const sockets = new Set<net.Socket>()
  const proxy = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname)
    sockets.add(client).add(upstream)
    let sent = false
    client.on('data', (data) => {
      if (armed && data.toString().toLowerCase().includes('evalsha')) sent = true
      upstream.write(data)
    })
    upstream.on('data', (data) => {
      if (armed && sent) {
        armed = false
        client.destroy()
        upstream.destroy()
        return
      }
      client.write(data)
    })
    for (const socket of [client, upstream]) {
      socket.on('error', () => {})
      socket.on('close', () => { client.destroy(); upstream.destroy() })
    }
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { for (const socket of sockets) socket.destroy(); proxy.close() })
  const port = (proxy.address() as net.AddressInfo).port

  const observer = new RedisBus({ url: redis.url, nodeId: 'observer' })
  const bus = new RedisBus({ url: `redis://127.0.0.1:${port}`, nodeId: 'writer' })
  t.teardown(async () => { await bus.close(); await observer.close() })
  await observer.start()
  await bus.start()
  const seen: Envelope[] = []
  await observer.subscribe('change:x', (envelope) => { seen.push(envelope) })

  armed = true
  let outcome: string
  try {
    outcome = `seq ${String((await new ChangeNumbering(bus, 5000).number({ resource: 'x', type: 'insert', id: '1', before: null, after: { id: '1' } })).seq)}`
  } catch (error) {
    outcome = `failed: ${(error as Error).message}`
  }
  t.equal(armed, false, 'the reply was cut')
  const admin = new Redis(redis.url)
  t.teardown(() => { admin.disconnect() })
  // Give a re-sent command time to land.
  for (let i = 0; i < 50 && bus.healthy() === false; i++) await new Promise((resolve) => setTimeout(resolve, 20))
  await new Promise((resolve) => setTimeout(resolve, 200))
  const entries = await admin.xrange('s3db-realtime:log:change:x', '-', '+')
  t.equal(entries.length, 1, `one entry in the log (the append ${outcome})`)
  t.same(seen.map((e) => e.seq), [1], 'published once')
  if (outcome.startsWith('seq')) t.equal(outcome, 'seq 1', 'and the append reports that entry')
})
