import { randomUUID } from 'node:crypto'
import { busClock, isAppendRefused, type ChangeLog, type Envelope } from '../bus/types.js'
import type { RawChange } from '../hub/change-stream.js'
import type { ChangeEvent } from '../hub/history.js'
import { withTimeout } from '../util/timeout.js'
import { InFlight } from './in-flight.js'

/** Longest wait for the bus to number a change before it counts as failed, ms. */
export const APPEND_TIMEOUT = 5000

/** What a node appends to a resource's log: the change plus the one timestamp every node shows. */
export type ChangePayload = RawChange & { timestamp: string }

export const changeTopic = (resource: string): string => `change:${resource}`

/** A log entry as the change event every node delivers. */
export function toEvent (envelope: Envelope): ChangeEvent {
  const payload = envelope.payload as ChangePayload
  return { resource: payload.resource, type: payload.type, id: payload.id, before: payload.before, after: payload.after, timestamp: payload.timestamp, seq: envelope.seq as number }
}

/**
 * Numbers changes on the bus's change log, for an instance (the coordinator) and for a worker
 * (`attachPublisher`) alike, and tracks the numberings still running per resource, so the write
 * barrier can hold a write until its change has its seq.
 */
export class ChangeNumbering {
  private readonly inFlight = new InFlight()

  constructor (private readonly log: ChangeLog, private readonly timeoutMs: number = APPEND_TIMEOUT) {}

  /** Numbers `change`; the promise rejects when the bus did not take it. */
  number (change: RawChange): Promise<Envelope> {
    const payload: ChangePayload = { ...change, timestamp: new Date().toISOString() }
    const numbering = this.append(payload)
    this.inFlight.track(change.resource, numbering)
    return numbering
  }

  /** Whether changes of `resource` are being numbered right now. */
  busy (resource: string): boolean {
    return this.inFlight.busy(resource)
  }

  /** Resolves once every change of `resource` given to `number` so far is numbered (or failed). */
  async settled (resource: string): Promise<void> {
    await this.inFlight.settled(resource)
  }

  /**
   * Appends once, retrying once under the same id when the reply did not come, and never lets a
   * change it gave up on be numbered later.
   *
   * A missing reply does not mean Redis missed the command: a process busy with a large fan-out
   * reads its socket late, after every timer (ours and ioredis' commandTimeout) has fired.
   * Taking that for an outage would deliver the change twice (locally, and through the log the
   * other nodes read). The retry gets the entry Redis already made, or makes it now; on a bus
   * that went down it is refused at once.
   *
   * Nor does it mean Redis will never run it: a frozen Redis runs what waited in its socket
   * buffers when it wakes, after appends of changes that causally follow this one. So every
   * attempt carries one deadline, checked by the log itself, and an append whose outcome is
   * unknown is only given up once that deadline has passed: from then on it cannot be numbered.
   */
  private async append (payload: ChangePayload): Promise<Envelope> {
    const id = randomUUID()
    const topic = changeTopic(payload.resource)
    const deadline = busClock() + this.timeoutMs
    const attempt = async (): Promise<Envelope> =>
      await withTimeout(async () => await this.log.append(topic, payload, { id, deadline }), this.timeoutMs, `no answer from the bus within ${this.timeoutMs}ms`)
    try {
      return await attempt()
    } catch (error) {
      // Never sent (the bus is down) or refused by the log: nothing can come of it.
      if (isAppendRefused(error, 'not-sent') || isAppendRefused(error, 'deadline')) throw error
    }
    try {
      return await attempt()
    } catch (error) {
      if (isAppendRefused(error, 'deadline')) throw error
      return await giveUpAt(deadline, error)
    }
  }
}

/** Rejects with `error` once `deadline` (on `busClock()`) has passed: the log refuses the append from then on. */
async function giveUpAt (deadline: number, error: unknown): Promise<never> {
  const wait = deadline - busClock()
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)))
  throw error
}
