import { ErrorCodes, ProtocolError } from '../errors.js'

/*
 * Socket writes to one record (`update`, `delete`, and their batch items) take turns, so a
 * conditional update's check (read, fingerprint, compare) and its write happen with no other
 * socket write to that record in between. Writes that do not come through the socket (REST
 * routes, the app calling s3db itself) do not take the lock: docs/protocol.md says so.
 */

/** Documented bound: writes holding or waiting for one record's lock on one instance. */
export const RECORD_LOCK_LIMITS = { queuedPerRecord: 256 } as const

/**
 * `held()` is false once the lock may have passed to someone else (a cluster lock whose lease
 * ran out while the holder waited on the store): a write must not start then. `exclusive` says
 * whether writes through every instance take turns with this one: false on a cluster whose bus
 * is unreachable or cannot lock, where only this instance's writers wait (a conditional update
 * must then be refused: it cannot be sure nobody writes between its check and its write).
 */
export type LockedWork<T> = (held: () => boolean, exclusive: boolean) => Promise<T>

/** Runs work under one record's lock. */
export interface RecordLocks {
  run: <T>(resource: string, id: string, work: LockedWork<T>) => Promise<T>
}

/**
 * The cross-instance part (clustered: a short lock on the bus). Called by at most one caller
 * per key per instance at a time: the local queue in front of it makes the instance's writers
 * take turns first.
 */
export type SharedLock = <T>(key: string, work: LockedWork<T>) => Promise<T>

interface Queue {
  tail: Promise<void>
  /** Holder plus waiters; the entry is removed when it falls to zero. */
  size: number
}

/**
 * A keyed mutex: one queue per record with writes under way, none for idle records. Each socket
 * handles one frame at a time, so the waiters of all records are at most the open sockets; a
 * record with more than `queuedPerRecord` is refused (LIMIT_EXCEEDED) rather than queued.
 */
export class LocalRecordLocks implements RecordLocks {
  private readonly queues = new Map<string, Queue>()

  /** @param shared the cross-instance part when clustered; null on a single instance (whose turns are exclusive). */
  constructor (private readonly shared: SharedLock | null = null) {}

  /** Records with writes holding or waiting for their lock (for tests and metrics). */
  get busy (): number {
    return this.queues.size
  }

  async run<T>(resource: string, id: string, work: LockedWork<T>): Promise<T> {
    const key = JSON.stringify([resource, id])
    let queue = this.queues.get(key)
    if (queue === undefined) {
      queue = { tail: Promise.resolve(), size: 0 }
      this.queues.set(key, queue)
    }
    if (queue.size >= RECORD_LOCK_LIMITS.queuedPerRecord) {
      throw new ProtocolError(ErrorCodes.LIMIT_EXCEEDED, 'Too many writes waiting for this record; try again')
    }
    queue.size++
    const previous = queue.tail
    let release = (): void => {}
    queue.tail = new Promise<void>((resolve) => { release = resolve })
    try {
      await previous
      return this.shared === null ? await work(() => true, true) : await this.shared(key, work)
    } finally {
      release()
      // Nobody queued behind this write: forget the record (the map holds busy records only).
      if (--queue.size === 0) this.queues.delete(key)
    }
  }
}
