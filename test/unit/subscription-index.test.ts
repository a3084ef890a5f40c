import t from 'tap'
import { combineFilters } from '../../src/access/filter.js'
import type { Subscription } from '../../src/connection/connection.js'
import { SubscriptionIndex } from '../../src/hub/subscription-index.js'
import { recordingConnection, subscription } from './doubles.js'

const { connection } = recordingConnection('c1')

/** The subscriptions `forEachMatch` visits for `record`, and how many it examined. */
function matches (index: SubscriptionIndex, record: unknown): { visited: Subscription[], examined: number } {
  const visited: Subscription[] = []
  const examined = index.forEachMatch(record, (s) => { visited.push(s) })
  return { visited, examined }
}

function all (index: SubscriptionIndex): Subscription[] {
  const out: Subscription[] = []
  index.forEach((s) => { out.push(s) })
  return out
}

t.test('size follows add and remove; removing what is not there changes nothing', async (t) => {
  const index = new SubscriptionIndex()
  const open = subscription(connection)
  const byAuthor = subscription(connection, { filter: { author: 'ann' } })
  const stranger = subscription(connection, { filter: { author: 'bob' } })
  t.equal(index.size, 0)
  index.add(open)
  index.add(byAuthor)
  t.equal(index.size, 2)
  index.remove(stranger)
  index.remove(subscription(connection))
  t.equal(index.size, 2, 'subscriptions never added are not counted down')
  index.remove(byAuthor)
  index.remove(byAuthor)
  t.equal(index.size, 1, 'a second remove of the same subscription is a no-op')
  index.remove(open)
  index.remove(open)
  t.equal(index.size, 0)
})

t.test('an event finds its candidates by the indexed equality field, not by scanning', async (t) => {
  const index = new SubscriptionIndex()
  const ann = subscription(connection, { filter: { author: 'ann' } })
  const ann2 = subscription(connection, { filter: { author: 'ann' } })
  const bob = subscription(connection, { filter: { author: 'bob' } })
  const carol = subscription(connection, { filter: { author: 'carol' } })
  for (const s of [ann, ann2, bob, carol]) index.add(s)

  const forAnn = matches(index, { id: '1', author: 'ann' })
  t.same(new Set(forAnn.visited), new Set([ann, ann2]))
  t.equal(forAnn.examined, 2, 'only the "ann" bucket is examined; bob and carol are ruled out by lookup')

  const forNobody = matches(index, { id: '2', author: 'dave' })
  t.same(forNobody.visited, [])
  t.equal(forNobody.examined, 0)

  t.same(matches(index, { id: '3' }).visited, [], 'a record without the field is no candidate')
})

t.test('equality is strict: 1 and "1" are different values, null matches only null', async (t) => {
  const index = new SubscriptionIndex()
  const one = subscription(connection, { filter: { n: 1 } })
  const none = subscription(connection, { filter: { deletedAt: null } })
  index.add(one)
  index.add(none)
  t.same(matches(index, { n: '1' }).visited, [])
  t.same(matches(index, { n: 1 }).visited, [one])
  t.same(matches(index, {}).visited, [], 'a missing field is not null')
  t.same(matches(index, { deletedAt: null }).visited, [none])
})

t.test('candidates from the first condition are checked against the whole filter', async (t) => {
  const index = new SubscriptionIndex()
  // Conditions are sorted by path, so "author" is the indexed one.
  const both = subscription(connection, { filter: { status: 'published', author: 'ann' } })
  index.add(both)
  const drafted = matches(index, { author: 'ann', status: 'draft' })
  t.same(drafted.visited, [], 'second condition fails: examined but not visited')
  t.equal(drafted.examined, 1)
  t.same(matches(index, { author: 'ann', status: 'published' }).visited, [both])
  t.same(matches(index, { author: 'bob', status: 'published' }).visited, [], 'matching only a non-indexed condition is not enough')
})

t.test('nested paths are indexed like top-level fields', async (t) => {
  const index = new SubscriptionIndex()
  const nested = subscription(connection, { filter: { 'owner.team': 'red' } })
  index.add(nested)
  t.same(matches(index, { owner: { team: 'red' } }).visited, [nested])
  t.same(matches(index, { owner: { team: 'blue' } }).visited, [])
  t.same(matches(index, { 'owner.team': 'red' }).visited, [], 'a literal dotted key is not the nested path')
})

t.test('a subscription without a filter is a candidate for every record', async (t) => {
  const index = new SubscriptionIndex()
  const open = subscription(connection)
  const filtered = subscription(connection, { filter: { author: 'ann' } })
  index.add(open)
  index.add(filtered)
  t.same(matches(index, { author: 'zoe' }).visited, [open])
  t.same(matches(index, null).visited, [open], 'even a record that is not an object')
  const forAnn = matches(index, { author: 'ann' })
  t.same(new Set(forAnn.visited), new Set([open, filtered]))
  t.equal(forAnn.examined, 2)
})

t.test('a removed subscription is never a candidate again; its siblings stay', async (t) => {
  const index = new SubscriptionIndex()
  const open = subscription(connection)
  const ann = subscription(connection, { filter: { author: 'ann' } })
  const ann2 = subscription(connection, { filter: { author: 'ann' } })
  for (const s of [open, ann, ann2]) index.add(s)
  index.remove(ann)
  index.remove(open)
  const forAnn = matches(index, { author: 'ann' })
  t.same(forAnn.visited, [ann2])
  t.equal(forAnn.examined, 1)
  t.same(all(index), [ann2])
  index.remove(ann2)
  t.same(matches(index, { author: 'ann' }), { visited: [], examined: 0 }, 'nothing left to examine')
  t.same(all(index), [])
})

t.test('a subscription re-added under a new filter is found by the new one only', async (t) => {
  // What a token refresh does: remove, replace the filter, add.
  const index = new SubscriptionIndex()
  const moved = subscription(connection, { filter: { tenant: 'a' } })
  index.add(moved)
  index.remove(moved)
  moved.filter = combineFilters({}, { tenant: 'b' })
  index.add(moved)
  t.equal(index.size, 1)
  t.same(matches(index, { tenant: 'a' }).visited, [])
  t.same(matches(index, { tenant: 'b' }).visited, [moved])
})

t.test('a filter that contradicts its forced part is never visited', async (t) => {
  const index = new SubscriptionIndex()
  const contradicting = subscription(connection, { filter: { tenant: 'b' }, compiled: combineFilters({ tenant: 'b' }, { tenant: 'a' }) })
  index.add(contradicting)
  t.same(matches(index, { tenant: 'a' }).visited, [])
  t.same(matches(index, { tenant: 'b' }).visited, [])
})

t.test('forEach visits every subscription exactly once, whatever its filter', async (t) => {
  const index = new SubscriptionIndex()
  const added = [
    subscription(connection),
    subscription(connection, { filter: { author: 'ann' } }),
    subscription(connection, { filter: { author: 'ann' } }),
    subscription(connection, { filter: { author: 'bob' } }),
    subscription(connection, { filter: { status: 'draft' } })
  ]
  for (const s of added) index.add(s)
  const seen = all(index)
  t.equal(seen.length, added.length)
  t.same(new Set(seen), new Set(added))
})

t.test('among 2,000 subscriptions, an equality + range filter examines only its equality bucket', async (t) => {
  const index = new SubscriptionIndex()
  // 100 regions x 20 price floors: every subscription has an equality and a range condition.
  const byRegion = new Map<string, Subscription[]>()
  for (let region = 0; region < 100; region++) {
    for (let floor = 0; floor < 20; floor++) {
      const s = subscription(connection, { filter: { region: `r${region}`, total: { $gte: floor * 10 } } })
      index.add(s)
      byRegion.set(`r${region}`, [...(byRegion.get(`r${region}`) ?? []), s])
    }
  }
  t.equal(index.size, 2000)
  t.equal(index.scanned, 0, 'every subscription is indexed by its equality condition')
  const found = matches(index, { id: 'o1', region: 'r42', total: 55 })
  t.equal(found.examined, 20, 'the r42 bucket only, not 2,000')
  t.same(new Set(found.visited), new Set(byRegion.get('r42')?.slice(0, 6)), 'the range is checked on those candidates: floors 0..50')
  t.same(matches(index, { id: 'o2', region: 'nowhere', total: 55 }), { visited: [], examined: 0 })
})

t.test('an $in subscription sits in one bucket per value and is found once', async (t) => {
  const index = new SubscriptionIndex()
  const teams = subscription(connection, { filter: { team: { $in: ['a', 'b', 'c'] } } })
  const onlyB = subscription(connection, { filter: { team: 'b' } })
  index.add(teams)
  index.add(onlyB)
  t.equal(index.size, 2)
  t.same(matches(index, { team: 'a' }), { visited: [teams], examined: 1 })
  const forB = matches(index, { team: 'b' })
  t.same(new Set(forB.visited), new Set([teams, onlyB]))
  t.equal(forB.examined, 2)
  t.same(matches(index, { team: 'd' }), { visited: [], examined: 0 })
  t.same(all(index).length, 2, 'forEach visits the $in subscription once, not once per bucket')
  index.remove(teams)
  t.equal(index.size, 1)
  t.same(matches(index, { team: 'a' }), { visited: [], examined: 0 }, 'gone from every bucket')
  t.same(all(index), [onlyB])
})

t.test('equality is preferred to $in as the indexed condition, whatever the path order', async (t) => {
  const index = new SubscriptionIndex()
  const s = subscription(connection, { filter: { a: { $in: ['x', 'y'] }, b: 'k' } })
  index.add(s)
  t.same(matches(index, { a: 'x', b: 'other' }), { visited: [], examined: 0 }, 'looked up by b, not a')
  t.same(matches(index, { a: 'x', b: 'k' }), { visited: [s], examined: 1 })
})

t.test('a filter with no equality or $in condition lands in the scan bucket: examined for every event, counted', async (t) => {
  const index = new SubscriptionIndex()
  const range = subscription(connection, { filter: { total: { $gt: 100 } } })
  const prefix = subscription(connection, { filter: { name: { $prefix: 'a' } } })
  const indexed = subscription(connection, { filter: { region: 'eu', total: { $gt: 100 } } })
  for (const s of [range, prefix, indexed]) index.add(s)
  t.equal(index.scanned, 2)
  const found = matches(index, { total: 150, name: 'bob', region: 'us' })
  t.same(found.visited, [range])
  t.equal(found.examined, 2, 'both scan-bucket subscriptions examined; the eu bucket ruled out')
  index.remove(range)
  t.equal(index.scanned, 1)
  t.equal(index.size, 2)
})

t.test('a subscription that can match nothing is never examined, but forEach still sees it', async (t) => {
  const index = new SubscriptionIndex()
  const nothing = subscription(connection, { filter: { total: { $gt: 5, $lt: 3 } } })
  index.add(nothing)
  t.equal(nothing.filter.impossible, true)
  t.equal(index.scanned, 0, 'not in the scan bucket')
  t.same(matches(index, { total: 4 }), { visited: [], examined: 0 })
  t.same(all(index), [nothing], 'a reset still reaches it')
  index.remove(nothing)
  t.equal(index.size, 0)
})
