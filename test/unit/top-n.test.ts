import t from 'tap'
import { TopN, topN } from '../../src/util/top-n.js'

// The inspector's bounded lists: the first n in order, holding n, whatever was offered.

t.test('keeps the first n in compare order and counts what was offered', async (t) => {
  const numbers = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000)
  t.same(topN(numbers, 5, (a, b) => b - a), [999, 998, 997, 996, 995])
  t.same(topN(numbers, 3, (a, b) => a - b), [0, 1, 2])
  const top = new TopN<number>(2, (a, b) => a - b)
  for (const n of [5, 3, 9, 1]) top.offer(n)
  t.same(top.items, [1, 3])
  t.equal(top.offered, 4)
  t.same(topN([3, 1, 2], 10, (a, b) => a - b), [1, 2, 3], 'fewer than n: all of them, sorted')
  t.same(topN([1, 2], 0, (a, b) => a - b), [], 'n = 0: none')
})

t.test('ties keep the order they came in', async (t) => {
  const items = [{ k: 1, id: 'a' }, { k: 2, id: 'b' }, { k: 1, id: 'c' }, { k: 2, id: 'd' }]
  t.same(topN(items, 3, (x, y) => y.k - x.k).map((x) => x.id), ['b', 'd', 'a'])
})
