import t from 'tap'
import { compileFilter } from '../../src/access/filter.js'
import { choosePartition } from '../../src/records/list.js'
import type { Filter, ResourceLike } from '../../src/types.js'
import { resourceWithAttributes } from './doubles.js'

// Which s3db partition `list` reads: only equality conditions can pick one; every other
// operator is checked on the records read (s3db's own list/query know equality only).

const orders: ResourceLike = {
  ...resourceWithAttributes({ region: 'string', total: 'number' }),
  name: 'orders',
  config: { partitions: { byRegion: { fields: { region: 'string' } } } }
}

const prefixFor = (filter: Filter, requested?: string): string | null => choosePartition(orders, compileFilter(filter), requested)?.prefix ?? null

t.test('an equality condition picks the partition, whatever other operators come with it', async (t) => {
  t.equal(prefixFor({ region: 'eu' }), 'resource=orders/partition=byRegion/region=eu/')
  t.equal(prefixFor({ region: 'eu', total: { $gt: 100 } }), 'resource=orders/partition=byRegion/region=eu/')
  t.equal(prefixFor({ region: { $eq: 'eu' } as Filter[string] }), 'resource=orders/partition=byRegion/region=eu/', '$eq is equality')
})

t.test('other operators on the partition field scan the resource', async (t) => {
  for (const region of [{ $in: ['eu', 'us'] }, { $ne: 'eu' }, { $prefix: 'e' }, { $gte: 'eu' }, { $exists: true }]) {
    t.equal(prefixFor({ region }), null, JSON.stringify(region))
  }
  t.equal(prefixFor({ region: { $in: ['eu', 'us'] } }, 'byRegion'), null, 'named, but no single value: the whole resource')
})
