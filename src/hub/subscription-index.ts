import { matchesFilter, type CompiledFilter, type Condition } from '../access/filter.js'
import type { FilterValue } from '../types.js'
import type { Subscription } from '../connection/connection.js'
import { readPath } from '../util/paths.js'

/**
 * The condition a subscription is indexed by: its first equality (`$eq`, the plain form) by
 * path, else its shortest `$in`; null when it has neither (ranges, `$ne`, `$prefix`, ... only).
 */
export function indexCondition (filter: CompiledFilter): Condition | null {
  let best: Condition | null = null
  for (const condition of filter.conditions) {
    if (condition.op === '$eq') return condition
    if (condition.op === '$in' && (best === null || (condition.value as FilterValue[]).length < (best.value as FilterValue[]).length)) best = condition
  }
  return best
}

/** The bucket keys of an indexed condition: its value, or each value of its `$in`. */
function keysOf (condition: Condition): readonly unknown[] {
  return condition.op === '$in' ? condition.value as FilterValue[] : [condition.value]
}

interface PathBuckets {
  readonly segments: readonly string[]
  readonly buckets: Map<unknown, Set<Subscription>>
}

/**
 * The subscriptions of one resource, indexed so an event finds its candidates by lookup. A
 * subscription with an equality or `$in` condition sits under that condition's path, in the
 * bucket of its value (one bucket per value of an `$in`: a record has one value at a path, so it
 * meets such a subscription at most once); its other conditions (ranges, ...) are checked only
 * on the candidates a lookup returns. One without conditions sits in `unfiltered`; one whose
 * conditions are all of other kinds sits in the scan bucket, checked against every event (its
 * size is a metric); one that matches nothing is kept only for `forEach`. Cost per event is the
 * number of indexed paths plus the candidates plus the scan bucket, not the number of subscribers.
 */
export class SubscriptionIndex {
  private readonly unfiltered = new Set<Subscription>()
  private readonly scan = new Set<Subscription>()
  private readonly never = new Set<Subscription>()
  /** Indexed subscriptions that sit in several buckets (an `$in` of several values). */
  private readonly multi = new Set<Subscription>()
  private readonly byPath = new Map<string, PathBuckets>()
  private count = 0

  get size (): number {
    return this.count
  }

  /** Subscriptions with conditions but none the index can look up: examined for every event. */
  get scanned (): number {
    return this.scan.size
  }

  add (subscription: Subscription): void {
    const filter = subscription.filter
    const key = filter.impossible ? null : indexCondition(filter)
    if (key === null) {
      const set = this.setFor(filter)
      if (!set.has(subscription)) this.count++
      set.add(subscription)
      return
    }
    let path = this.byPath.get(key.path)
    if (path === undefined) {
      path = { segments: key.segments, buckets: new Map() }
      this.byPath.set(key.path, path)
    }
    let added = false
    for (const value of keysOf(key)) {
      let bucket = path.buckets.get(value)
      if (bucket === undefined) path.buckets.set(value, bucket = new Set())
      if (!bucket.has(subscription)) added = true
      bucket.add(subscription)
    }
    if (added) this.count++
    if (keysOf(key).length > 1) this.multi.add(subscription)
  }

  remove (subscription: Subscription): void {
    const filter = subscription.filter
    const key = filter.impossible ? null : indexCondition(filter)
    if (key === null) {
      if (this.setFor(filter).delete(subscription)) this.count--
      return
    }
    const path = this.byPath.get(key.path)
    if (path === undefined) return
    let removed = false
    for (const value of keysOf(key)) {
      const bucket = path.buckets.get(value)
      if (bucket === undefined || !bucket.delete(subscription)) continue
      removed = true
      if (bucket.size === 0) path.buckets.delete(value)
    }
    if (removed) this.count--
    this.multi.delete(subscription)
    if (path.buckets.size === 0) this.byPath.delete(key.path)
  }

  private setFor (filter: CompiledFilter): Set<Subscription> {
    if (filter.impossible) return this.never
    return filter.conditions.length === 0 ? this.unfiltered : this.scan
  }

  /**
   * Calls `visit` for every subscription whose filter matches `record`; returns how many
   * subscriptions were examined (the candidates the index could not rule out).
   */
  forEachMatch (record: unknown, visit: (subscription: Subscription) => void): number {
    let examined = this.unfiltered.size + this.scan.size
    for (const subscription of this.unfiltered) visit(subscription)
    for (const subscription of this.scan) {
      if (matchesFilter(record, subscription.filter)) visit(subscription)
    }
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
    for (const subscription of this.scan) visit(subscription)
    for (const subscription of this.never) visit(subscription)
    for (const subscription of this.multi) visit(subscription)
    for (const path of this.byPath.values()) {
      for (const bucket of path.buckets.values()) {
        for (const subscription of bucket) if (!this.multi.has(subscription)) visit(subscription)
      }
    }
  }
}
