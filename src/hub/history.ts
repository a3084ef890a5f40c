import type { ChangeType, RecordData } from '../types.js'

/** A change as the hub distributes it: numbered per resource, stamped once. */
export interface ChangeEvent {
  readonly resource: string
  readonly type: ChangeType | 'reset'
  readonly id: string | null
  readonly before: RecordData | null
  readonly after: RecordData | null
  readonly seq: number
  readonly timestamp: string
}

/**
 * A bounded ring of the most recent events of one resource, for `subscribe {since}`.
 * `since(seq)` answers null when events after `seq` have already been evicted (a gap).
 */
export class ResourceHistory {
  private readonly ring: Array<ChangeEvent | undefined>
  private start = 0
  private length = 0

  constructor (private readonly capacity: number) {
    this.ring = new Array<ChangeEvent | undefined>(capacity)
  }

  push (event: ChangeEvent): void {
    if (this.capacity === 0) return
    const index = (this.start + this.length) % this.capacity
    this.ring[index] = event
    if (this.length < this.capacity) this.length++
    else this.start = (this.start + 1) % this.capacity
  }

  /** Events with seq > `seq`, oldest first; null when history no longer reaches back to it. */
  since (seq: number, lastSeq: number): ChangeEvent[] | null {
    // A seq this history never reached comes from another numbering (the server restarted and
    // counts from 0 again): what the client missed is unknown, so it is a gap, not "nothing new".
    if (seq > lastSeq) return null
    if (seq === lastSeq) return []
    const oldest = this.length === 0 ? undefined : this.ring[this.start]
    if (oldest === undefined || oldest.seq > seq + 1) return null
    const out: ChangeEvent[] = []
    for (let i = 0; i < this.length; i++) {
      const event = this.ring[(this.start + i) % this.capacity] as ChangeEvent
      if (event.seq > seq) out.push(event)
    }
    return out
  }
}
