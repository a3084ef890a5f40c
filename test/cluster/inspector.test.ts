import t from 'tap'
import { MemoryBroker, MemoryBus } from '../../src/bus/memory.js'
import { twoNodes } from '../helpers/cluster.js'

// Issue #17 section 2, clustered: each instance's inspector reports its node id, the bus's
// health and the cluster's numbering (one epoch, the same seq per resource on every instance).

t.test('two instances on one bus: node id, bus health, shared epoch and seq', async (t) => {
  const broker = new MemoryBroker()
  const [a, b] = await twoNodes(t, (name) => ({ bus: new MemoryBus({ broker, nodeId: name }), nodeId: name }))
  const onB = await b.client()
  await onB.request({ type: 'subscribe', resource: 'messages' })
  await a.db.resources.messages!.insert({ content: 'from a', channel: 'general' })
  await a.db.resources.messages!.insert({ content: 'from a again', channel: 'general' })
  await onB.waitType('event')
  await onB.waitType('event')
  const [ia, ib] = [a.app.realtime.inspect(), b.app.realtime.inspect()]
  t.match(ia.node, { clustered: true, nodeId: 'a', busHealthy: true })
  t.match(ib.node, { clustered: true, nodeId: 'b', busHealthy: true })
  t.equal(ia.node.epoch, ib.node.epoch, 'one numbering across the cluster')
  const seq = (s: typeof ia): number | undefined => s.resources.find((r) => r.name === 'messages')?.seq
  t.equal(seq(ib), 2)
  t.equal(seq(ia), seq(ib))
  t.equal(ib.resources.find((r) => r.name === 'messages')?.items[0]?.matched, 2, 'b\'s subscriber matched the changes written on a')
  t.equal(ia.totals.connections, 0, 'each instance reports its own sockets')
})
