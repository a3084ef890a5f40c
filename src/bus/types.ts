/**
 * The bus that lets several s3db-realtime instances act as one server. It is deliberately small:
 * fire-and-forget `publish`/`subscribe` for messages that need no ordering guarantees beyond
 * "in publish order from one node", and `append`/`readLog` for the per-resource change log,
 * which numbers entries cluster-wide (seq) under an `epoch` and keeps a bounded history.
 */

/** What travels on the bus. `origin` is the node id of the publisher (nodes skip their own). */
export interface Envelope<T = unknown> {
  readonly origin: string
  readonly topic: string
  readonly payload: T
  /** Position in the topic's log (only for entries written with `append`). */
  readonly seq?: number
  /** The log epoch the seq belongs to (only for `append`). */
  readonly epoch?: string
}

export type EnvelopeHandler = (envelope: Envelope) => void
export type Unsubscribe = () => Promise<void>

/**
 * How long a bus remembers which seq an append id got, ms: longer than any retry of ours
 * (2 x appendTimeout) and than ioredis takes to re-send an unanswered command after reconnecting.
 */
export const APPEND_ID_TTL_MS = 120_000

/**
 * The clock append deadlines are read on: this process's monotonic clock, in ms on the scale of
 * `Date.now()` (so a wall-clock step on this machine never moves a deadline).
 */
export function busClock (): number {
  return performance.timeOrigin + performance.now()
}

/** Makes an append safe to repeat when its reply never came (see `Bus.append`). */
export interface AppendOptions {
  /** Names the entry (unique per append, e.g. a UUID). */
  readonly id: string
  /**
   * Latest `busClock()` time at which the entry may still be made. An append that reaches the
   * log later (a stalled broker that wakes up, a command re-sent after a reconnect) is refused
   * with `AppendRefusedError('deadline')`, so a writer that gave up on it can count on it never
   * being numbered. A bus with its own clock converts conservatively (it may refuse a little
   * early, never late).
   */
  readonly deadline?: number
}

/**
 * Why an append was certainly not numbered. `deadline`: the log's clock had passed the deadline
 * (no attempt under that id and deadline can make the entry any more). `not-sent`: this attempt
 * never left the process (an earlier attempt under the same id may still be on its way).
 */
export type AppendRefusal = 'deadline' | 'not-sent'

/** An append that made no entry, for a known reason (any other rejection: outcome unknown). */
export class AppendRefusedError extends Error {
  readonly code = 'APPEND_REFUSED'

  constructor (readonly reason: AppendRefusal, message: string, cause?: unknown) {
    super(message, cause === undefined || cause === null ? undefined : { cause })
    this.name = 'AppendRefusedError'
  }
}

/** Whether `error` says the append made no entry because of `reason`. */
export function isAppendRefused (error: unknown, reason: AppendRefusal): boolean {
  return error instanceof AppendRefusedError && error.reason === reason
}

/** Where a topic's log stands. */
export interface LogHead {
  readonly epoch: string
  readonly lastSeq: number
  /**
   * Present once the numbering has been replaced since the broker's data began (`rotateEpoch`,
   * or a seq counter lost and restarted): a seq without its epoch may then name different
   * changes. A broker that lost all its data forgets this too (nothing can tell then).
   */
  readonly renumbered?: true
}

/** Result of `readLog`: entries after the asked seq, or null when history no longer covers it. */
export interface LogRead extends LogHead {
  readonly entries: Envelope[] | null
}

/** Fire-and-forget messages to every node (channels, relayed calls, control). */
export interface PubSub {
  /** This node's id; stamped on every envelope it sends. */
  readonly nodeId: string
  /** Delivers `payload` to every subscriber of `topic` on every node (including this one). */
  publish (topic: string, payload: unknown): Promise<void>
  subscribe (topic: string, handler: EnvelopeHandler): Promise<Unsubscribe>
}

/** The per-resource change log: cluster-wide numbering under an epoch, with bounded history. */
export interface ChangeLog {
  /**
   * Atomically gives `payload` the next seq of `topic`'s log, stores it in the bounded history
   * and publishes it to the topic's subscribers. Entries reach subscribers in seq order.
   * Appending again under the same `options.id` (for at least two minutes) returns the entry
   * the first attempt made instead of making another. Past `options.deadline` no entry is made
   * (see `AppendOptions.deadline`); an attempt that certainly made none rejects with
   * `AppendRefusedError`.
   */
  append (topic: string, payload: unknown, options?: AppendOptions): Promise<Envelope>
  /** Log entries with seq > `afterSeq`, oldest first (null entries: a gap). */
  readLog (topic: string, afterSeq: number): Promise<LogRead>
  head (topic: string): Promise<LogHead>
  /** Starts a new epoch (after a node lost events): every older `since` becomes unresumable. */
  rotateEpoch (): Promise<string>
}

/** Values any node can take once (connection tickets issued on one instance, redeemed on another). */
export interface Stash {
  /** Keeps `value` under `key` for `ttlMs` where every node can `take` it. */
  stash (key: string, value: unknown, ttlMs: number): Promise<void>
  /** Removes and returns the value stashed under `key`, atomically (one taker wins); null when absent or expired. */
  take (key: string): Promise<unknown>
}

/**
 * Lists what is stashed under a key prefix. Optional on a caller's own Bus: liveness uses it when
 * a node starts, to find nodes of earlier runs that died with nobody left to notice (without it,
 * such a death is announced only if some node that heard the dead one is still running).
 */
export interface StashListing {
  /** Keys (as given to `stash`) starting with `prefix` that are still stashed, at most `limit`. */
  stashedKeys (prefix: string, limit: number): Promise<string[]>
}

/**
 * Short exclusive leases any node can take (one record's socket writes, across instances).
 * Optional on a caller's own Bus: without it, record writes take turns per instance only.
 */
export interface Locks {
  /**
   * Takes `key` for `ttlMs` unless another holder has it; resolves with the token that releases
   * it, or null when it is taken. The lease ends by itself after `ttlMs` (a holder that died).
   */
  lock (key: string, ttlMs: number): Promise<string | null>
  /** Releases `key` if `token` still holds it (a lease that ran out and passed on is left alone). */
  unlock (key: string, token: string): Promise<void>
}

/** Whether the broker can be reached. */
export interface BusHealth {
  /** False while the broker is unreachable. */
  healthy (): boolean
  /** Calls `listener` with the new state whenever `healthy()` changes; returns its remover. */
  onHealthChange (listener: (healthy: boolean) => void): () => void
}

/**
 * A whole bus: every role plus its lifecycle. Consumers are typed against the narrowest role
 * they use (tickets: `Stash`; channels: `PubSub & BusHealth`; numbering: `ChangeLog & BusHealth`;
 * record writes: `Locks & BusHealth`).
 */
export interface Bus extends PubSub, ChangeLog, Stash, BusHealth, Partial<Locks>, Partial<StashListing> {
  readonly kind: 'memory' | 'redis'
  /** Connects (a no-op for the memory bus). Called once by the plugin before use. */
  start (): Promise<void>
  /** Releases what the bus created (never caller-owned clients). Idempotent. */
  close (): Promise<void>
}

/** The logger surface the bus needs (a pino/Fastify logger fits). */
export interface BusLogger {
  warn (obj: object, msg: string): void
}

export const silentLogger: BusLogger = { warn: () => {} }

/** Runs a handler so a throwing subscriber never breaks delivery to the others. */
export function safeDeliver (handler: EnvelopeHandler, envelope: Envelope, log: BusLogger): void {
  try {
    handler(envelope)
  } catch (error) {
    log.warn({ err: error, topic: envelope.topic }, 'realtime bus: subscriber threw')
  }
}

/**
 * `bus.onHealthChange` with a remover that always works: the listener goes quiet even on a
 * caller's Bus whose `onHealthChange` returns nothing.
 */
export function watchHealth (bus: BusHealth, listener: (healthy: boolean) => void): () => void {
  let active = true
  const remove: unknown = bus.onHealthChange((healthy) => { if (active) listener(healthy) })
  return () => {
    active = false
    if (typeof remove === 'function') (remove as () => void)()
  }
}
