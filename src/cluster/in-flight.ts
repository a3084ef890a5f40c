/**
 * Changes still being numbered, per resource. `settled` waits for those started so far (never
 * rejects: a failed numbering is handled where it failed).
 */
export class InFlight {
  private readonly pending = new Map<string, Set<Promise<unknown>>>()

  track (resource: string, work: Promise<unknown>): void {
    let set = this.pending.get(resource)
    if (set === undefined) this.pending.set(resource, set = new Set())
    const tracked = work.then(() => {}, () => {})
    set.add(tracked)
    void tracked.then(() => {
      set.delete(tracked)
      if (set.size === 0 && this.pending.get(resource) === set) this.pending.delete(resource)
    })
  }

  /** Whether numberings of `resource` are still running. */
  busy (resource: string): boolean {
    return this.pending.has(resource)
  }

  async settled (resource: string): Promise<void> {
    const set = this.pending.get(resource)
    if (set !== undefined) await Promise.all([...set])
  }
}
