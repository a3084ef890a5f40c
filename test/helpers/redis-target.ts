import type { Test } from 'tap'
import { startRedis } from './redis.js'
import { RedisClusterProcesses } from './redis-cluster.js'

/** The Redis deployments the cluster suite runs on: one redis-server, a 3-primary Redis Cluster. */
export const REDIS_KINDS = ['redis', 'redis-cluster'] as const
export type RedisKind = typeof REDIS_KINDS[number]

/**
 * Starts `kind` for this test (killed at teardown) and returns the plugin's `redis` option for
 * it, with `extra` (prefix, commandTimeout…) merged in.
 */
export async function startRedisTarget (t: Test, kind: RedisKind): Promise<(extra?: Record<string, unknown>) => Record<string, unknown>> {
  if (kind === 'redis') {
    const server = await startRedis(t)
    return (extra = {}) => ({ url: server.url, ...extra })
  }
  const cluster = await RedisClusterProcesses.start(t)
  return (extra = {}) => ({ nodes: cluster.nodes, ...extra })
}
