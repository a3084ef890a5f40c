import { matchesFilter } from '../access/filter.js'
import type { Subscription } from '../connection/connection.js'
import { readPath } from '../util/paths.js'

/**
 * The subscriptions of one resource, indexed so an event finds its candidates by lookup:
 * a subscription with conditions sits in exactly one bucket, keyed by its first condition's
 * path and value; one without conditions sits in `unfiltered`. Cost per event is the number of
 * distinct indexed paths plus the candidates, not the number of subscribers.
 */
export class SubscriptionIndex {
  private readonly unfiltered = new Set<Subscription>()
  private readonly byPath = new Map<string, { segments: readonly string[], buckets: Map<unknown, Set<Subscription>> }>()
  private count = 0

  get size (): number {
    return this.count
  }

  add (subscription: Subscription): void {
    const first = subscription.filter.conditions[0]
    this.count++
    if (first === undefined) {
      this.unfiltered.add(subscription)
      return
    }
    let path = this.byPath.get(first.path)
    if (path === undefined) {
      path = { segments: first.segments, buckets: new Map() }
      this.byPath.set(first.path, path)
    }
    let bucket = path.buckets.get(first.value)
    if (bucket === undefined) {
      bucket = new Set()
      path.buckets.set(first.value, bucket)
    }
    bucket.add(subscription)
  }

  remove (subscription: Subscription): void {
    const first = subscription.filter.conditions[0]
    if (first === undefined) {
      if (this.unfiltered.delete(subscription)) this.count--
      return
    }
    const path = this.byPath.get(first.path)
    const bucket = path?.buckets.get(first.value)
    if (path === undefined || bucket === undefined || !bucket.delete(subscription)) return
    this.count--
    if (bucket.size === 0) path.buckets.delete(first.value)
    if (path.buckets.size === 0) this.byPath.delete(first.path)
  }

  /**
   * Calls `visit` for every subscription whose filter matches `record`; returns how many
   * subscriptions were examined (the candidates the index could not rule out).
   */
  forEachMatch (record: unknown, visit: (subscription: Subscription) => void): number {
    let examined = this.unfiltered.size
    for (const subscription of this.unfiltered) visit(subscription)
    for (const path of this.byPath.values()) {
      const bucket = path.buckets.get(readPath(record, path.segments))
      if (bucket === undefined) continue
      examined += bucket.size
      for (const subscription of bucket) {
        if (matchesFilter(record, subscription.filter)) visit(subscription)
      }
    }
    return examined
  }

  /** Every subscription, regardless of filter (used for `reset` and broadcastToResource). */
  forEach (visit: (subscription: Subscription) => void): void {
    for (const subscription of this.unfiltered) visit(subscription)
    for (const path of this.byPath.values()) {
      for (const bucket of path.buckets.values()) for (const subscription of bucket) visit(subscription)
    }
  }
}
