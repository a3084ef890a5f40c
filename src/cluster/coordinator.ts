import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { watchHealth, type BusHealth, type ChangeLog, type Envelope, type LogHead, type PubSub, type Unsubscribe } from '../bus/types.js'
import { encode, encodeMessage, resourceResyncFrame } from '../wire/frames.js'
import { ALONE_SEQ_BASE, type ChangeStream, type RawChange } from '../hub/change-stream.js'
import type { LocalHub } from '../hub/local-hub.js'
import type { Relay, RelayedCall } from '../hub/relay.js'
import type { HistorySource, LogRead } from '../hub/replay.js'
import { HeadCheck } from './head-check.js'
import { Sequencer } from './sequencer.js'
import { ChangeNumbering, changeTopic, toEvent, type ChangePayload } from './numbering.js'

export { changeTopic, toEvent }

/** The bus roles the coordinator uses. */
export type CoordinatorBus = PubSub & ChangeLog & BusHealth

const RELAY_TOPIC = 'relay'
const RETIRED_EPOCHS = 16
/** Pause before a failed recovery is tried again (clients stay on RESYNC until it succeeds), ms. */
const RECOVERY_RETRY_MS = 1000
export const CONTROL_TOPIC = 'control'

export interface CoordinatorOptions {
  /** Longest wait for Redis to number a change before it is delivered locally without it, ms. */
  appendTimeout: number
  /** How long a hole in the seq order may stay open before it is filled from the log, ms. */
  gapTimeout: number
  /** How often each resource's log head is checked for changes that never arrived, ms. @default 1000 */
  headCheckInterval?: number
}

/**
 * Makes N hubs act as one. Every change goes through the bus log, which numbers it cluster-wide;
 * each node delivers changes to its own clients in seq order (its own as soon as the append
 * returns, others' as they arrive; it ignores its own envelopes). When the bus is unreachable
 * the node keeps serving its clients under a node-local epoch; once the bus is back it rotates
 * the cluster epoch, so every client that might have missed something gets RESYNC_REQUIRED
 * instead of a silent gap.
 */
export class ClusterCoordinator implements Relay, HistorySource {
  private readonly sequencer: Sequencer
  private readonly numbering: ChangeNumbering
  private readonly epochs = new Map<string, string>()
  /** Epochs this node moved away from; envelopes still carrying one are stale. */
  private readonly retired = new Set<string>()
  private readonly unsubscribes: Unsubscribe[] = []
  /** Set once a change was delivered without the bus: the cluster never saw it. */
  private diverged = false
  /** Changes delivered without the bus so far (a recovery only clears what it saw). */
  private aloneCount = 0
  /** The cluster epoch of each resource this node took at start. */
  private readonly firstEpochs = new Map<string, string>()
  /** Set once this node's numbering left the one it started with (another epoch, or alone). */
  private numberingChanged = false
  private readonly headCheck: HeadCheck
  private recovering: Promise<void> | null = null
  private retryTimer: NodeJS.Timeout | null = null
  private closed = false
  private stopWatchingHealth: () => void = () => {}

  constructor (
    private readonly hub: LocalHub,
    private readonly stream: ChangeStream,
    readonly bus: CoordinatorBus,
    private readonly log: FastifyBaseLogger,
    private readonly options: CoordinatorOptions
  ) {
    this.numbering = new ChangeNumbering(bus, options.appendTimeout)
    this.sequencer = new Sequencer((event) => { this.stream.accept(event) }, (resource, from) => { void this.fillGap(resource, from) }, options.gapTimeout)
    this.headCheck = new HeadCheck({
      resources: () => this.resources,
      inStep: () => this.inStep(),
      knownEpoch: (resource) => this.epochs.get(resource),
      delivered: (resource) => this.stream.lastSeq(resource),
      head: async (resource) => await this.bus.head(changeTopic(resource)),
      epochChanged: (resource, head) => { if (!this.retired.has(head.epoch)) this.adopt(resource, head, true) },
      // An append of ours still running may be the entry that is missing: its own outcome
      // decides (numbered: delivered from the reply; given up: delivered alone, then resync).
      behind: (resource) => { if (!this.numbering.busy(resource)) void this.catchUp(resource) },
      failed: (error) => {
        this.hub.counters.busErrors++
        this.log.warn({ err: error }, 'realtime cluster: could not check the log heads')
      }
    }, options.headCheckInterval)
  }

  get nodeId (): string {
    return this.bus.nodeId
  }

  private get resources (): string[] {
    return [...this.hub.resources.keys()]
  }

  /** Ready when the bus is reachable and this node is in step with the cluster. */
  healthy (): boolean {
    return this.bus.healthy() && !this.diverged && this.recovering === null
  }

  private inStep (): boolean {
    return !this.closed && this.healthy()
  }

  /** Joins the cluster numbering (the bus is already started). */
  async start (): Promise<void> {
    for (const name of this.resources) {
      this.unsubscribes.push(await this.bus.subscribe(changeTopic(name), (envelope) => { this.onChange(envelope) }))
    }
    this.unsubscribes.push(await this.bus.subscribe(RELAY_TOPIC, (envelope) => { this.onRelay(envelope) }))
    this.unsubscribes.push(await this.bus.subscribe(CONTROL_TOPIC, (envelope) => { this.onControl(envelope) }))
    // Subscribed first, head second: anything appended in between is buffered by the sequencer
    // and delivered once the head says where numbering stands.
    for (const name of this.resources) this.adopt(name, await this.bus.head(changeTopic(name)), false)
    this.stopWatchingHealth = watchHealth(this.bus, (healthy) => { this.onHealthChange(healthy) })
    this.headCheck.start()
  }

  /** The bridge's sink when clustered. Never throws; never blocks local delivery on Redis. */
  publishChange (raw: RawChange): void {
    if (this.closed) return
    // Always try the append: it needs only the command connection (a dropped subscriber
    // connection must not split numbering), and it fails fast when Redis is away. During a
    // recovery changes are appended as usual: the catch-up read (or the resync after an epoch
    // rotation) covers any that race with it, and holding them back would reorder them.
    this.append(raw)
  }

  /** Resolves once every change of `resource` captured so far has been numbered (or delivered alone). */
  async settled (resource: string): Promise<void> {
    await this.numbering.settled(resource)
  }

  private append (raw: RawChange): void {
    const timestamp = new Date().toISOString()
    this.numbering.number(raw).then(
      (envelope) => { this.accept(envelope) },
      (error: unknown) => {
        this.hub.counters.busErrors++
        this.log.warn({ err: error, resource: raw.resource }, 'realtime cluster: append failed; delivering locally only')
        this.deliverAlone({ ...raw, timestamp })
      }
    ).catch((error: unknown) => {
      // Delivery itself failed (not the bus): log it like the single-node bridge does, never
      // leave an unhandled rejection behind.
      this.log.error({ err: error, resource: raw.resource }, 'realtime cluster: delivering a change failed')
    })
  }

  /** Delivers to this node's clients under a node-local epoch (resumes across it resync). */
  private deliverAlone (payload: ChangePayload): void {
    if (!this.diverged) {
      this.diverged = true
      this.numberingChanged = true
      this.stream.setEpoch(`local-${randomUUID()}`)
      this.log.warn('realtime cluster: bus unreachable; serving local clients only until it returns')
    }
    this.aloneCount++
    // Not lastSeq + 1: the other instances go on numbering lastSeq + 1 … with other changes, and
    // this node's clients still hold the cluster's epoch (event frames carry none), so such a
    // position would name one change here and another elsewhere. From the far range it is beyond
    // every other instance's head: resuming from it anywhere else is refused (RESYNC_REQUIRED).
    const seq = Math.max(this.stream.lastSeq(payload.resource), ALONE_SEQ_BASE) + 1
    this.sequencer.reset(payload.resource, seq)
    this.stream.accept({ ...payload, seq })
    // An append that timed out while the bus looks healthy may still have run in Redis: our
    // numbering and the cluster's now disagree, and no health change will come to fix it.
    if (this.bus.healthy() && this.recovering === null) this.recovering = this.recover()
  }

  private onChange (envelope: Envelope): void {
    if (envelope.origin === this.nodeId || this.closed) return
    this.accept(envelope)
  }

  /** A numbered change, this node's own (append reply) or another's (pub/sub). */
  private accept (envelope: Envelope): void {
    const event = toEvent(envelope)
    // Sent before a rotation this node already followed: the resync it announced covers it.
    if (this.retired.has(envelope.epoch as string)) return
    const known = this.epochs.get(event.resource)
    if (known !== undefined && envelope.epoch !== known && this.recovering === null && !this.diverged) {
      // The log was rotated or Redis lost its data: numbering restarts under the new epoch.
      this.adopt(event.resource, { epoch: envelope.epoch as string, lastSeq: event.seq - 1 }, true)
    }
    this.sequencer.offer(event)
  }

  /** Takes the cluster's numbering for `resource`; `notify` tells its subscribers to re-list. */
  private adopt (resource: string, head: LogHead, notify: boolean): void {
    const first = this.firstEpochs.get(resource)
    if (first === undefined) this.firstEpochs.set(resource, head.epoch)
    else if (head.epoch !== first) this.numberingChanged = true
    const previous = this.epochs.get(resource)
    if (previous !== undefined && previous !== head.epoch) this.retire(previous)
    this.epochs.set(resource, head.epoch)
    this.stream.setResourceEpoch(resource, head.epoch)
    this.stream.reset(resource, head.lastSeq)
    this.sequencer.reset(resource, head.lastSeq)
    if (notify) this.notifyResync(resource)
  }

  /** Remembers an epoch left behind (the last few; stragglers arrive within moments). */
  private retire (epoch: string): void {
    this.retired.delete(epoch)
    this.retired.add(epoch)
    if (this.retired.size > RETIRED_EPOCHS) this.retired.delete(this.retired.values().next().value as string)
  }

  /** Subscribers of `resource` may have missed events: tell each connection once. */
  private notifyResync (resource: string): void {
    this.hub.sendToSubscribers(resource, encode(resourceResyncFrame(resource, this.stream.epochOf(resource), this.stream.lastSeq(resource))))
  }

  /** A hole stayed open: read it from the log; if the log lost it too, resync the resource. */
  private async fillGap (resource: string, from: number): Promise<void> {
    try {
      const read = await this.bus.readLog(changeTopic(resource), from - 1)
      if (read.entries !== null && read.epoch === this.epochs.get(resource)) {
        for (const envelope of read.entries) this.sequencer.offer(toEvent(envelope))
        return
      }
    } catch (error) {
      this.hub.counters.busErrors++
      this.log.warn({ err: error, resource }, 'realtime cluster: could not read the log to fill a gap')
    }
    if (this.sequencer.expected(resource) !== from) return
    const next = this.sequencer.firstPending(resource)
    if (next !== null) this.adopt(resource, { epoch: this.epochs.get(resource) ?? this.stream.epochOf(resource), lastSeq: next - 1 }, true)
  }

  /**
   * The head check found changes numbered a round ago that never arrived (a message lost on
   * pub/sub): read them from the log; if the log no longer has them, resync the resource.
   */
  private async catchUp (resource: string): Promise<void> {
    const known = this.epochs.get(resource)
    try {
      const read = await this.bus.readLog(changeTopic(resource), this.stream.lastSeq(resource))
      if (!this.inStep() || this.epochs.get(resource) !== known || this.retired.has(read.epoch)) return
      if (read.epoch === known && read.entries !== null) {
        for (const envelope of read.entries) this.sequencer.offer(toEvent(envelope))
        return
      }
      this.adopt(resource, { epoch: read.epoch, lastSeq: read.lastSeq }, true)
    } catch (error) {
      this.hub.counters.busErrors++
      this.log.warn({ err: error, resource }, 'realtime cluster: could not read the log to catch up')
    }
  }

  /** The façade's relay: repeats a public-API call on the other instances. */
  send (call: RelayedCall): void {
    if (this.closed) return
    if (!this.bus.healthy()) {
      this.log.warn({ kind: call.kind }, 'realtime cluster: bus unreachable; call reached this instance only')
      return
    }
    this.bus.publish(RELAY_TOPIC, call).catch((error: unknown) => {
      this.hub.counters.busErrors++
      this.log.warn({ err: error, kind: call.kind }, 'realtime cluster: relaying a call failed')
    })
  }

  private onRelay (envelope: Envelope): void {
    if (envelope.origin === this.nodeId) return
    const call = envelope.payload as RelayedCall
    if (call.kind === 'broadcast') this.hub.broadcast(encodeMessage(call.message))
    else if (call.kind === 'broadcastToResource') this.hub.broadcastToResource(call.resource, encodeMessage(call.message))
    else if (call.kind === 'sendToClient') this.hub.sendToClient(call.clientId, encodeMessage(call.message))
    else if (call.kind === 'disconnectUser') this.hub.disconnectUser(call.userId, call.reason)
    else if (call.kind === 'publish') this.hub.deliverPublished(call.resource, call.frame, call.excludeClientId, call.message)
  }

  private onControl (envelope: Envelope): void {
    if (envelope.origin === this.nodeId || (envelope.payload as { kind?: string }).kind !== 'resync') return
    void this.resyncAll()
  }

  private async resyncAll (): Promise<void> {
    try {
      for (const name of this.resources) {
        const head = await this.bus.head(changeTopic(name))
        // Already on it: a change numbered under the new epoch got here first and was adopted
        // (and announced) then; adopting again would skip changes still on their way.
        if (head.epoch !== this.epochs.get(name)) this.adopt(name, head, true)
      }
    } catch (error) {
      this.log.warn({ err: error }, 'realtime cluster: resync after an epoch change failed')
    }
  }

  private onHealthChange (healthy: boolean): void {
    if (this.closed) return
    this.log[healthy ? 'info' : 'warn']({ nodeId: this.nodeId }, healthy ? 'realtime cluster: bus reachable again' : 'realtime cluster: bus unreachable')
    if (healthy && this.recovering === null) this.recovering = this.recover()
  }

  /**
   * Back in touch with the bus. A node that delivered changes alone rotates the epoch (nobody
   * else saw them). Otherwise it reads what it missed from the log; only what the log no
   * longer holds becomes a resync.
   */
  private async recover (): Promise<void> {
    const alone = this.aloneCount
    try {
      if (this.diverged) {
        await this.bus.rotateEpoch()
        await this.bus.publish(CONTROL_TOPIC, { kind: 'resync' })
      }
      for (const name of this.resources) {
        const topic = changeTopic(name)
        const head = await this.bus.head(topic)
        if (!this.diverged && head.epoch === this.epochs.get(name)) {
          const read = await this.bus.readLog(topic, this.stream.lastSeq(name))
          if (read.entries !== null && read.epoch === head.epoch) {
            for (const envelope of read.entries) this.sequencer.offer(toEvent(envelope))
            continue
          }
        }
        this.adopt(name, head, true)
      }
      // A change delivered alone during this recovery needs another round (scheduled below).
      if (this.aloneCount === alone) this.diverged = false
    } catch (error) {
      this.log.warn({ err: error }, 'realtime cluster: recovery failed; retrying')
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null
        if (!this.closed && this.bus.healthy() && this.recovering === null) this.recovering = this.recover()
      }, Math.min(this.options.appendTimeout, RECOVERY_RETRY_MS))
    } finally {
      this.recovering = null
      if (this.diverged && this.aloneCount !== alone && !this.closed && this.bus.healthy()) this.recovering = this.recover()
    }
  }

  /**
   * A `since` without its epoch can only mean this node's numbering while it has held one since
   * it started (never another epoch, never alone), the log of `resource` is still under it (a
   * Redis that lost its data, not yet noticed here, shows a new epoch) and the cluster never
   * replaced its numbering (an instance started after a rotation did not see the one before).
   */
  async trustsSeqWithoutEpoch (resource: string): Promise<boolean> {
    const first = this.firstEpochs.get(resource)
    if (this.numberingChanged || this.diverged || first === undefined) return false
    const head = await this.bus.head(changeTopic(resource)).catch(() => null)
    return head !== null && head.renumbered !== true && head.epoch === first && !this.numberingChanged
  }

  /** `since` beyond this instance's memory: the cluster log of `resource`. */
  async readLog (resource: string, afterSeq: number): Promise<LogRead> {
    const read = await this.bus.readLog(changeTopic(resource), afterSeq)
    return { epoch: read.epoch, lastSeq: read.lastSeq, entries: read.entries === null ? null : read.entries.map(toEvent) }
  }

  /**
   * Stops numbering and delivering. `unsubscribe: false` when the bus is about to be closed
   * anyway (no round trips to a broker that may be gone).
   */
  async close (unsubscribe: boolean): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.stopWatchingHealth()
    this.headCheck.stop()
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    this.sequencer.close()
    if (!unsubscribe) return
    for (const stop of this.unsubscribes.splice(0)) await stop()
  }

  /**
   * Another node died without a goodbye (see liveness.ts): changes it wrote to the store may
   * never have been numbered, or were delivered only to its own clients. Starts a new epoch and
   * tells every node, this one too (it ignores its own control messages), so every subscriber
   * re-lists.
   */
  async announceLoss (): Promise<void> {
    await this.bus.rotateEpoch()
    await this.bus.publish(CONTROL_TOPIC, { kind: 'resync' })
    await this.resyncAll()
  }
}
