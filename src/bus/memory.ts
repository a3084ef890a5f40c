import { randomUUID } from 'node:crypto'
import { APPEND_ID_TTL_MS, AppendRefusedError, busClock, safeDeliver, silentLogger, type AppendOptions, type Bus, type BusLogger, type Envelope, type EnvelopeHandler, type LogHead, type LogRead, type Unsubscribe } from './types.js'
import { dropExpired } from '../util/expiry.js'

interface Subscriber {
  readonly handler: EnvelopeHandler
  readonly log: BusLogger
}

interface TopicLog {
  lastSeq: number
  entries: Envelope[]
}


/**
 * The shared "broker" of memory buses: several MemoryBus instances (several hubs in one process)
 * built on one broker behave like nodes on one Redis. Payloads are copied through JSON, as they
 * would be on the wire, so no node can mutate another's data.
 */
export class MemoryBroker {
  epoch = randomUUID()
  /** Set by `rotate`: a seq without its epoch may now name different changes. */
  private renumbered = false
  private readonly subscribers = new Map<string, Set<Subscriber>>()
  private readonly logs = new Map<string, TopicLog>()
  /** Append id -> the seq and epoch it got, oldest first (expired ones leave from the front). */
  private readonly appended = new Map<string, { seq: number, epoch: string, expiresAt: number }>()
  /** Values kept for `take` (expired ones are dropped when taken or overwritten). */
  private readonly stashed = new Map<string, { wire: string, expiresAt: number }>()
  /** Leases held (expired ones are dropped when the key is asked for again). */
  private readonly locks = new Map<string, { token: string, expiresAt: number }>()

  constructor (readonly historySize = 1000) {}

  subscribe (topic: string, subscriber: Subscriber): () => void {
    let set = this.subscribers.get(topic)
    if (set === undefined) this.subscribers.set(topic, set = new Set())
    set.add(subscriber)
    return () => { set.delete(subscriber) }
  }

  /** Delivery is deferred (like a network hop) but FIFO, so publish order is kept. */
  deliver (envelope: Envelope): void {
    const wire = JSON.stringify(envelope)
    const targets = [...(this.subscribers.get(envelope.topic) ?? [])]
    queueMicrotask(() => {
      for (const target of targets) safeDeliver(target.handler, JSON.parse(wire) as Envelope, target.log)
    })
  }

  append (origin: string, topic: string, payload: unknown, options?: AppendOptions): Envelope {
    const log = this.logFor(topic)
    const made = options === undefined ? undefined : this.appended.get(options.id)
    if (made !== undefined) return { origin, topic, payload: JSON.parse(JSON.stringify(payload ?? null)), seq: made.seq, epoch: made.epoch }
    if (options?.deadline !== undefined && busClock() > options.deadline) {
      throw new AppendRefusedError('deadline', 'the append reached the log after its deadline; no entry was made')
    }
    log.lastSeq++
    const envelope: Envelope = { origin, topic, payload: JSON.parse(JSON.stringify(payload ?? null)), seq: log.lastSeq, epoch: this.epoch }
    log.entries.push(envelope)
    if (options !== undefined) this.rememberAppend(options.id, envelope)
    if (log.entries.length > this.historySize) log.entries.splice(0, log.entries.length - this.historySize)
    this.deliver(envelope)
    return envelope
  }

  private rememberAppend (id: string, envelope: Envelope): void {
    const now = Date.now()
    dropExpired(this.appended, now)
    this.appended.set(id, { seq: envelope.seq as number, epoch: envelope.epoch as string, expiresAt: now + APPEND_ID_TTL_MS })
  }

  read (topic: string, afterSeq: number): LogRead {
    const log = this.logFor(topic)
    const head = this.head(topic)
    if (afterSeq >= log.lastSeq) return { ...head, entries: [] }
    const first = log.entries[0]
    if (first === undefined || (first.seq as number) > afterSeq + 1) return { ...head, entries: null }
    return { ...head, entries: log.entries.filter((e) => (e.seq as number) > afterSeq) }
  }

  head (topic: string): LogHead {
    const head = { epoch: this.epoch, lastSeq: this.logFor(topic).lastSeq }
    return this.renumbered ? { ...head, renumbered: true } : head
  }

  /** Starts a new epoch (see `ChangeLog.rotateEpoch`). */
  rotate (): string {
    this.epoch = randomUUID()
    this.renumbered = true
    return this.epoch
  }

  lock (key: string, ttlMs: number): string | null {
    const now = Date.now()
    const held = this.locks.get(key)
    if (held !== undefined && held.expiresAt > now) return null
    const token = randomUUID()
    this.locks.delete(key)
    this.locks.set(key, { token, expiresAt: now + ttlMs })
    dropExpired(this.locks, now) // so leases nobody released do not pile up
    return token
  }

  unlock (key: string, token: string): void {
    if (this.locks.get(key)?.token === token) this.locks.delete(key)
  }

  stash (key: string, value: unknown, ttlMs: number): void {
    const now = Date.now()
    dropExpired(this.stashed, now) // so untaken values do not pile up
    this.stashed.delete(key)
    this.stashed.set(key, { wire: JSON.stringify(value ?? null), expiresAt: now + ttlMs })
  }

  stashedKeys (prefix: string, limit: number): string[] {
    const now = Date.now()
    return [...this.stashed].filter(([key, entry]) => key.startsWith(prefix) && entry.expiresAt > now).slice(0, limit).map(([key]) => key)
  }

  take (key: string): unknown {
    const entry = this.stashed.get(key)
    this.stashed.delete(key)
    return entry === undefined || entry.expiresAt <= Date.now() ? null : JSON.parse(entry.wire) as unknown
  }

  private logFor (topic: string): TopicLog {
    let log = this.logs.get(topic)
    if (log === undefined) this.logs.set(topic, log = { lastSeq: 0, entries: [] })
    return log
  }
}

export interface MemoryBusOptions {
  /** Share one broker between buses to simulate a cluster in one process. @default a private broker */
  broker?: MemoryBroker
  nodeId?: string
  log?: BusLogger
}

/** The default bus: one process, no broker. Also the reference implementation of the contract. */
export class MemoryBus implements Bus {
  readonly kind = 'memory'
  readonly nodeId: string
  readonly broker: MemoryBroker
  private readonly log: BusLogger
  private readonly unsubscribers = new Set<() => void>()
  private closed = false

  constructor (options: MemoryBusOptions = {}) {
    this.broker = options.broker ?? new MemoryBroker()
    this.nodeId = options.nodeId ?? randomUUID()
    this.log = options.log ?? silentLogger
  }

  async start (): Promise<void> {}

  async publish (topic: string, payload: unknown): Promise<void> {
    this.assertOpen()
    this.broker.deliver({ origin: this.nodeId, topic, payload: payload ?? null })
  }

  async subscribe (topic: string, handler: EnvelopeHandler): Promise<Unsubscribe> {
    this.assertOpen()
    const off = this.broker.subscribe(topic, { handler, log: this.log })
    this.unsubscribers.add(off)
    return async () => {
      off()
      this.unsubscribers.delete(off)
    }
  }

  async append (topic: string, payload: unknown, options?: AppendOptions): Promise<Envelope> {
    this.assertOpen()
    return this.broker.append(this.nodeId, topic, payload, options)
  }

  async readLog (topic: string, afterSeq: number): Promise<LogRead> {
    this.assertOpen()
    return this.broker.read(topic, afterSeq)
  }

  async head (topic: string): Promise<LogHead> {
    this.assertOpen()
    return this.broker.head(topic)
  }

  async stash (key: string, value: unknown, ttlMs: number): Promise<void> {
    this.assertOpen()
    this.broker.stash(key, value, ttlMs)
  }

  async take (key: string): Promise<unknown> {
    this.assertOpen()
    return this.broker.take(key)
  }

  async stashedKeys (prefix: string, limit: number): Promise<string[]> {
    this.assertOpen()
    return this.broker.stashedKeys(prefix, limit)
  }

  async lock (key: string, ttlMs: number): Promise<string | null> {
    this.assertOpen()
    return this.broker.lock(key, ttlMs)
  }

  async unlock (key: string, token: string): Promise<void> {
    this.assertOpen()
    this.broker.unlock(key, token)
  }

  async rotateEpoch (): Promise<string> {
    this.assertOpen()
    return this.broker.rotate()
  }

  healthy (): boolean {
    return !this.closed
  }

  onHealthChange (): () => void {
    return () => {} // a memory bus is never unreachable: nothing to report, nothing to remove
  }

  async close (): Promise<void> {
    this.closed = true
    for (const off of this.unsubscribers) off()
    this.unsubscribers.clear()
  }

  private assertOpen (): void {
    if (this.closed) throw new Error('bus is closed')
  }
}
