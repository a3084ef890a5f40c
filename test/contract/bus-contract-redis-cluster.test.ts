import { RedisBus } from '../../src/bus/redis.js'
import type { Bus } from '../../src/bus/types.js'
import { busContract, type BusFactory } from '../helpers/bus-contract.js'
import { RedisClusterProcesses } from '../helpers/redis-cluster.js'

// The same contract as one Redis (bus-contract.test.ts), on a real 3-primary Redis Cluster.
const redisCluster: BusFactory = async (t, historySize) => {
  const cluster = await RedisClusterProcesses.start(t)
  const buses: [Bus, Bus] = [
    new RedisBus({ nodes: cluster.nodes, nodeId: 'a', historySize }),
    new RedisBus({ nodes: cluster.nodes, nodeId: 'b', historySize })
  ]
  t.teardown(async () => { for (const bus of buses) await bus.close() })
  for (const bus of buses) await bus.start()
  return buses
}

busContract('redis cluster', redisCluster, true)
