/** Joins and leaves of one channel since its last `presence:count`. */
export interface PendingCounts {
  joined: number
  left: number
}

/**
 * Batches presence changes of large channels: instead of one push per join/leave, each busy
 * channel gets at most one `presence:count` per interval. The timer runs only while something
 * is pending, so an idle server holds no timer.
 */
export class PresenceSummarizer {
  private readonly pending = new Map<string, PendingCounts>()
  private timer: NodeJS.Timeout | null = null

  constructor (
    private readonly interval: number,
    private readonly flush: (channel: string, counts: PendingCounts) => void
  ) {}

  record (channel: string, change: 'joined' | 'left'): void {
    let counts = this.pending.get(channel)
    if (counts === undefined) this.pending.set(channel, counts = { joined: 0, left: 0 })
    counts[change]++
    if (this.timer === null) {
      this.timer = setTimeout(() => { this.flushAll() }, this.interval)
      this.timer.unref()
    }
  }

  get pendingChannels (): number {
    return this.pending.size
  }

  private flushAll (): void {
    this.timer = null
    const batch = [...this.pending]
    this.pending.clear()
    for (const [channel, counts] of batch) this.flush(channel, counts)
  }

  close (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.pending.clear()
  }
}
