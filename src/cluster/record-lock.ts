import type { FastifyBaseLogger } from 'fastify'
import { busClock, type BusHealth, type Locks } from '../bus/types.js'
import { ErrorCodes, ProtocolError } from '../errors.js'
import type { SharedLock } from '../records/record-locks.js'

/**
 * How long one record's lease on the bus lasts, ms: far longer than a store write, short enough
 * that a record whose holder died is free again soon.
 */
export const RECORD_LEASE_MS = 10_000
/** Longest wait for another instance's lease on the record before the write is refused, ms. */
export const RECORD_WAIT_MS = 5_000
/** A write does not start in its lease's last moments (it could outlive the lease). */
const LEASE_MARGIN_MS = 2_000
const FIRST_PAUSE_MS = 2
const LONGEST_PAUSE_MS = 50

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/**
 * Socket writes to one record take turns across instances: each holds a short lease on the bus
 * (Redis `SET NX PX`) for its read-check-write. The lease is timed from before the request was
 * sent, so `held()` turns false no later than Redis lets the lease go. When the bus cannot be
 * reached, the write goes ahead under this instance's turn only, marked not exclusive (the
 * handler refuses conditional updates then; plain writes go on, as numbering does alone).
 */
export function busRecordLock (bus: Locks & BusHealth, log: FastifyBaseLogger): SharedLock {
  return async (key, work) => {
    const waitUntil = busClock() + RECORD_WAIT_MS
    let pause = FIRST_PAUSE_MS
    for (;;) {
      if (!bus.healthy()) return await work(() => true, false)
      const askedAt = busClock()
      let token: string | null
      try {
        token = await bus.lock(key, RECORD_LEASE_MS)
      } catch (error) {
        log.warn({ err: error }, 'realtime cluster: could not lock a record on the bus')
        return await work(() => true, false)
      }
      if (token !== null) {
        const held = (): boolean => busClock() < askedAt + RECORD_LEASE_MS - LEASE_MARGIN_MS
        try {
          return await work(held, true)
        } finally {
          // A lease not released (the bus went away) ends by itself after RECORD_LEASE_MS.
          bus.unlock(key, token).catch((error: unknown) => { log.warn({ err: error }, 'realtime cluster: could not release a record lock') })
        }
      }
      if (busClock() >= waitUntil) throw new ProtocolError(ErrorCodes.LIMIT_EXCEEDED, 'The record stayed busy too long; try again')
      await sleep(pause)
      pause = Math.min(pause * 2, LONGEST_PAUSE_MS)
    }
  }
}

/** A caller's bus without `lock`: this instance's writers take turns, other instances' do not. */
export const unsharedRecordLock: SharedLock = async (_key, work) => await work(() => true, false)
