import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { until } from './wait.js'
import { freePort, RedisProcess } from './redis.js'

const SLOTS = 16384

/**
 * A real Redis Cluster of `size` primaries (no replicas): redis-server processes in cluster mode
 * on free ports, slots split evenly, joined with CLUSTER MEET; ready once every node reports the
 * cluster ok. Killed (and its node files removed) at teardown.
 */
export class RedisClusterProcesses {
  private constructor (readonly servers: RedisProcess[]) {}

  /** Seed nodes for the `redis: { nodes }` option. */
  get nodes (): string[] {
    return this.servers.map((server) => server.url)
  }

  static async start (t: Test, size = 3): Promise<RedisClusterProcesses> {
    const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'))
    const servers: RedisProcess[] = []
    t.teardown(async () => {
      for (const server of servers) await server.stop()
      rmSync(dir, { recursive: true, force: true })
    })
    for (let i = 0; i < size; i++) {
      const port = await freePort()
      servers.push(new RedisProcess(port, ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000']))
    }
    await Promise.all(servers.map(async (server) => { await server.start() }))
    const admins = servers.map((server) => new Redis(server.port, '127.0.0.1', { lazyConnect: true }))
    try {
      const per = Math.ceil(SLOTS / size)
      for (const [i, admin] of admins.entries()) {
        await admin.connect()
        await admin.call('CLUSTER', 'ADDSLOTSRANGE', String(i * per), String(Math.min(SLOTS, (i + 1) * per) - 1))
      }
      for (const server of servers.slice(1)) await admins[0]!.call('CLUSTER', 'MEET', '127.0.0.1', String(server.port))
      await until(async () => {
        const states = await Promise.all(admins.map(async (admin) => String(await admin.call('CLUSTER', 'INFO'))))
        return states.every((info) => info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${size}`))
      }, 'the Redis Cluster to be ok on every node', 20_000)
    } finally {
      for (const admin of admins) admin.disconnect()
    }
    return new RedisClusterProcesses(servers)
  }

  /** Which primary (index into `servers`) owns `key`'s slot. */
  async ownerOf (key: string): Promise<number> {
    const admin = new Redis(this.servers[0]!.port, '127.0.0.1')
    try {
      const slot = Number(await admin.call('CLUSTER', 'KEYSLOT', key))
      const ranges = await admin.call('CLUSTER', 'SLOTS') as Array<[number, number, [string, number]]>
      const owner = ranges.find(([from, to]) => slot >= from && slot <= to)
      return this.servers.findIndex((server) => server.port === owner?.[2][1])
    } finally {
      admin.disconnect()
    }
  }
}
