import { RedisBus } from '../bus/redis.js'
import type { Bus, BusLogger } from '../bus/types.js'
import type { ResolvedCluster } from '../options/cluster.js'

export interface OpenedBus {
  readonly bus: Bus
  /** True when the plugin created the bus (it then closes it at shutdown). */
  readonly ownsBus: boolean
}

/** The bus the resolved `redis`/`bus` options describe: the caller's, or a RedisBus opened here. */
export function openBus (cluster: ResolvedCluster, historySize: number, log: BusLogger): OpenedBus {
  const { transport } = cluster
  if (transport.kind === 'bus') return { bus: transport.bus, ownsBus: false }
  return { bus: new RedisBus({ ...transport.redis, nodeId: cluster.nodeId, historySize, log }), ownsBus: true }
}
