/**
 * A connection's subscriptions by id, in the order they were added. Most sockets hold one
 * subscription: it sits in a field, and a Map (whose table is ~0.15 KB even for one entry, per
 * idle socket) is made only from the second on.
 */
export class SubscriptionTable<S extends { readonly id: string }> {
  private single: S | null = null
  private many: Map<string, S> | null = null

  get size (): number {
    if (this.many !== null) return this.many.size
    return this.single === null ? 0 : 1
  }

  get (id: string): S | undefined {
    if (this.many !== null) return this.many.get(id)
    return this.single !== null && this.single.id === id ? this.single : undefined
  }

  has (id: string): boolean {
    return this.get(id) !== undefined
  }

  /** Adds (or replaces the one with the same id). */
  add (subscription: S): void {
    if (this.many !== null) {
      this.many.set(subscription.id, subscription)
    } else if (this.single === null || this.single.id === subscription.id) {
      this.single = subscription
    } else {
      this.many = new Map([[this.single.id, this.single], [subscription.id, subscription]])
      this.single = null
    }
  }

  /** True when there was one with that id. */
  delete (id: string): boolean {
    if (this.many !== null) {
      const deleted = this.many.delete(id)
      if (this.many.size === 0) this.many = null
      return deleted
    }
    if (this.single === null || this.single.id !== id) return false
    this.single = null
    return true
  }

  clear (): void {
    this.single = null
    this.many = null
  }

  values (): IterableIterator<S> {
    if (this.many !== null) return this.many.values()
    return (this.single === null ? [] : [this.single]).values()
  }
}
