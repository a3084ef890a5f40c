import t from 'tap'
import { combineFilters } from '../../src/access/filter.js'
import { SubscriptionTable } from '../../src/connection/subscription-table.js'
import { LocalHub } from '../../src/hub/local-hub.js'
import { postsResource, recordingConnection, recordingLog, subscription } from './doubles.js'

function hub (): LocalHub {
  const posts = postsResource()
  return new LocalHub(new Map([['posts', posts]]), recordingLog().log)
}

t.test('subscriptions with the same filter hold one compiled filter; each removal path gives it back', async (t) => {
  const local = hub()
  const connections = Array.from({ length: 4 }, (_, i) => recordingConnection(`c${i}`).connection)
  for (const connection of connections) local.addConnection(connection)
  const subs = connections.map((connection) => subscription(connection, { filter: { channel: 'ch-0' } }))
  for (const s of subs) local.addSubscription(s)
  t.equal(local.filters.size, 1, 'one shared entry for four subscriptions')
  t.ok(subs.every((s) => s.filter === subs[0]!.filter && s.clientFilter === subs[0]!.clientFilter), 'one object, not four')
  t.equal(local.subscriptionCount, 4)

  local.addSubscription(subs[0]!)
  local.removeSubscription(subs[1]!)
  local.removeSubscription(subs[1]!)
  local.removeConnection(connections[2]!, 1000, '')
  t.equal(local.filters.size, 1, 'a repeated add or remove is not counted twice: one subscription still holds it')
  local.removeConnection(connections[0]!, 1000, '')
  t.equal(local.filters.size, 1)
  local.removeSubscription(subs[3]!)
  t.equal(local.filters.size, 0, 'gone with the last subscription (unsubscribe, close, a second close)')
  t.equal(local.subscriptionCount, 0)
})

t.test('a subscription re-filtered (token refresh) leaves its old entry and joins its new one', async (t) => {
  const local = hub()
  const { connection } = recordingConnection('ann')
  local.addConnection(connection)
  const s = subscription(connection, { compiled: combineFilters({}, { tenant: 't1' }) })
  const peer = subscription(recordingConnection('peer').connection, { compiled: combineFilters({}, { tenant: 't1' }) })
  local.addSubscription(s)
  local.addSubscription(peer)
  t.equal(s.filter, peer.filter)
  // What recheckSubscriptions does (src/protocol/handlers/auth.ts).
  local.removeSubscription(s)
  s.filter = combineFilters({}, { tenant: 't2' })
  local.addSubscription(s)
  t.not(s.filter, peer.filter, 'the new guard value is its own entry')
  t.same(s.filter.forced?.filter, { tenant: 't2' })
  t.same(peer.filter.forced?.filter, { tenant: 't1' }, 'the other user keeps its own')
  t.equal(local.filters.size, 2)
  local.removeSubscription(peer)
  local.removeSubscription(s)
  t.equal(local.filters.size, 0)
})

t.test('SubscriptionTable: one in a field, a Map from the second, in insertion order', async (t) => {
  const table = new SubscriptionTable<{ id: string, n: number }>()
  t.equal(table.size, 0)
  t.same([...table.values()], [])
  table.add({ id: 'a', n: 1 })
  table.add({ id: 'a', n: 2 })
  t.equal(table.size, 1, 'the same id replaces')
  t.equal(table.get('a')?.n, 2)
  t.equal(table.get('b'), undefined)
  table.add({ id: 'b', n: 3 })
  table.add({ id: 'c', n: 4 })
  t.same([...table.values()].map((s) => s.id), ['a', 'b', 'c'])
  t.equal(table.size, 3)
  t.ok(table.delete('b'))
  t.notOk(table.delete('b'))
  t.same([...table.values()].map((s) => s.id), ['a', 'c'])
  t.ok(table.delete('a'))
  t.ok(table.delete('c'))
  t.equal(table.size, 0)
  t.notOk(table.has('c'))
  table.add({ id: 'd', n: 5 })
  t.ok(table.has('d'))
  t.notOk(table.delete('x'), 'another id is not deleted')
  table.clear()
  t.equal(table.size, 0)
  t.same([...table.values()], [])
})
