import type { LogHead } from '../bus/types.js'

/** How often each resource's log head is compared with what this node delivered, ms. */
export const HEAD_CHECK_INTERVAL = 1000

/** What the head check looks at and whom it tells (the coordinator). */
export interface HeadCheckTarget {
  readonly resources: () => string[]
  /** False while the bus is away or the node is recovering: the recovery reads the log itself. */
  readonly inStep: () => boolean
  readonly knownEpoch: (resource: string) => string | undefined
  /** Last seq delivered to this node's clients. */
  readonly delivered: (resource: string) => number
  readonly head: (resource: string) => Promise<LogHead>
  /** The log is under another epoch than the one this node follows. */
  readonly epochChanged: (resource: string, head: LogHead) => void
  /** Changes numbered a whole round ago have still not arrived: read them from the log. */
  readonly behind: (resource: string) => void
  readonly failed: (error: unknown) => void
}

/**
 * Finds what pub/sub never brought without waiting for a later change to reveal it: every
 * `intervalMs`, each resource's log head is read; a head that was already ahead of what this
 * node delivered one round earlier (and still is) means lost messages, and a head under another
 * epoch means a rotation or a Redis data loss nobody announced. A change in flight is normally
 * delivered well within one round, so a healthy cluster costs one head read per resource and
 * round, and a lost change is found within two rounds.
 */
export class HeadCheck {
  /** Resource -> head seq seen ahead of delivery in the previous round. */
  private readonly lagging = new Map<string, number>()
  private timer: NodeJS.Timeout | null = null
  private stopped = false

  constructor (private readonly target: HeadCheckTarget, private readonly intervalMs: number = HEAD_CHECK_INTERVAL) {}

  start (): void {
    if (this.stopped || this.timer !== null) return
    this.timer = setTimeout(() => {
      void this.round().catch(this.target.failed).finally(() => {
        this.timer = null
        this.start()
      })
    }, this.intervalMs)
    this.timer.unref()
  }

  stop (): void {
    this.stopped = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  private async round (): Promise<void> {
    for (const resource of this.target.resources()) {
      if (this.stopped || !this.target.inStep()) {
        this.lagging.clear()
        return
      }
      const known = this.target.knownEpoch(resource)
      const head = await this.target.head(resource)
      // Something moved this resource meanwhile (an envelope of a new epoch, a recovery): that
      // path owns it now.
      if (this.stopped || !this.target.inStep() || this.target.knownEpoch(resource) !== known) continue
      this.compare(resource, known, head)
    }
  }

  private compare (resource: string, known: string | undefined, head: LogHead): void {
    const before = this.lagging.get(resource)
    this.lagging.delete(resource)
    if (head.epoch !== known) {
      this.target.epochChanged(resource, head)
      return
    }
    const delivered = this.target.delivered(resource)
    if (head.lastSeq <= delivered) return
    if (before !== undefined && delivered < before) this.target.behind(resource)
    else this.lagging.set(resource, head.lastSeq)
  }
}
