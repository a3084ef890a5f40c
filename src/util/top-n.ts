/**
 * The first `n` items offered, in `compare` order, without keeping or sorting them all: a
 * sorted window of at most `n` items, so picking 50 of 10,000 connections holds 50 and costs
 * about 10,000 comparisons.
 */
export class TopN<T> {
  readonly items: T[] = []
  /** How many were offered. */
  offered = 0

  constructor (private readonly n: number, private readonly compare: (a: T, b: T) => number) {}

  offer (item: T): void {
    this.offered++
    const kept = this.items
    if (this.n <= 0 || (kept.length === this.n && this.compare(item, kept[this.n - 1] as T) >= 0)) return
    let low = 0
    let high = kept.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (this.compare(item, kept[middle] as T) < 0) high = middle
      else low = middle + 1
    }
    kept.splice(low, 0, item)
    if (kept.length > this.n) kept.pop()
  }
}

/** The first `n` of `items` in `compare` order. */
export function topN<T> (items: Iterable<T>, n: number, compare: (a: T, b: T) => number): T[] {
  const top = new TopN(n, compare)
  for (const item of items) top.offer(item)
  return top.items
}
