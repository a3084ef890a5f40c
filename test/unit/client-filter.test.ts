import t from 'tap'
import { compileFilter, matchesFilter as serverMatches, normalizeFilter } from '../../src/access/filter.js'
import { compileClientFilter, matchesFilter as clientMatches } from '../../src/client/filter.js'
import type { Filter } from '../../src/client/types.js'

/*
 * The client's matcher is a port of the server's (the client may not import src/ outside
 * src/client/). Every filter below is run through both against every record; they must agree,
 * or an operator subscription through the typed client would drop inserts or mark updates `left`
 * that the server judged differently.
 */

const records: unknown[] = [
  {},
  { v: 1 }, { v: '1' }, { v: 0 }, { v: null }, { v: true }, { v: false }, { v: '' },
  { v: 5 }, { v: 10 }, { v: 15 }, { v: '10' }, { v: '5' }, { v: 'abc' }, { v: 'ab' }, { v: 'B' }, { v: 'a' },
  { v: [1] }, { v: ['a'] }, { v: { a: 1 } },
  { v: '2024-01-31T23:59:59.999Z' }, { v: '2024-02-01T00:00:00.000Z' },
  { w: { v: 1 } }, { w: { v: 'ab' } }, { w: null }, { w: 'x' }, { w: { v: { x: 1 } } },
  { region: 'eu', total: 150, owner: { tier: 'gold' } },
  { region: 'eu', total: 50, owner: { tier: 'gold' } },
  { region: 'us', total: 150, owner: { tier: 'free' } },
  Object.assign(Object.create({ v: 1 }) as object, { other: 2 }) // an inherited field is not the record's
]

/** Filters as a client may send them, the nested form (`{w: {v: 1}}`) included. */
const filters: Array<Record<string, unknown>> = [
  {},
  { v: 1 }, { v: '1' }, { v: null }, { v: true }, { v: { $eq: 1 } }, { v: { $eq: null } },
  { v: { $ne: 1 } }, { v: { $ne: null } }, { v: { $ne: null, $exists: true } },
  { v: { $in: ['a', 'ab', 1] } }, { v: { $in: [null] } }, { v: { $in: [] } }, { v: { $nin: [1, null] } }, { v: { $nin: [] } },
  { v: { $gt: 5 } }, { v: { $gte: 5, $lt: 15 } }, { v: { $lte: 10 } }, { v: { $gt: '1' } }, { v: { $lt: '6' } }, { v: { $gt: 'B' } },
  { v: { $gte: '2024-02-01T00:00:00.000Z', $lt: '2024-03-01' } }, { v: { $gt: 5, $lt: 3 } },
  { v: { $exists: true } }, { v: { $exists: false } }, { 'w.v': { $exists: true } }, { 'w.v': { $exists: false } },
  { v: { $prefix: 'ab' } }, { v: { $prefix: '' } }, { 'w.v': { $prefix: 'a' } },
  { 'w.v': 1 }, { w: { v: 1 } }, { w: { v: { $in: [1, 'ab'] } } }, { w: null }, { w: { v: { x: 1 } } },
  { region: 'eu', total: { $gt: 100 }, owner: { tier: { $in: ['gold', 'platinum'] } } },
  { region: { $ne: 'us' }, 'owner.tier': 'gold', total: { $gte: 50, $lte: 150 } }
]

function serverCompiled (filter: Record<string, unknown>): ReturnType<typeof compileFilter> {
  const normalized = normalizeFilter(filter)
  if ('error' in normalized) throw new Error(`${JSON.stringify(filter)}: ${normalized.error}`)
  return compileFilter(normalized.filter)
}

t.test('the client and the server agree on every filter and record', async (t) => {
  let compared = 0
  for (const filter of filters) {
    const server = serverCompiled(filter)
    const client = compileClientFilter(filter as Filter)
    for (const record of records) {
      const expected = serverMatches(record, server)
      if (clientMatches(record, client) !== expected) t.fail(`${JSON.stringify(filter)} on ${JSON.stringify(record)}: server says ${String(expected)}`)
      compared++
    }
  }
  t.equal(compared, filters.length * records.length)
})

t.test('operators are judged, not compared as values', async (t) => {
  const matches = (filter: Record<string, unknown>, record: unknown): boolean => clientMatches(record, compileClientFilter(filter as Filter))
  t.equal(matches({ total: { $gt: 100 } }, { total: 150 }), true)
  t.equal(matches({ total: { $gt: 100 } }, { total: 50 }), false)
  t.equal(matches({ total: { $gt: 100 } }, { total: '150' }), false, 'no cross-type ranges')
  t.equal(matches({ owner: { tier: 'gold' } }, { owner: { tier: 'gold' } }), true, 'the nested form is a dot path')
  t.equal(matches({ v: { $ne: 1 } }, {}), true, 'a missing field matches $ne')
  t.equal(matches({ v: null }, {}), false, 'a missing field is not null')
})
