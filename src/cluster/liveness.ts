import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { watchHealth, type BusHealth, type BusLogger, type Envelope, type PubSub, type Stash, type StashListing, type Unsubscribe } from '../bus/types.js'
import type { Connection } from '../connection/connection.js'
import { CloseCodes, ErrorCodes, ProtocolError } from '../errors.js'

/** Where every node, instance or worker, says it is alive, and goodbye. */
export const NODES_TOPIC = 'nodes'

/** A node silent for this many leases is presumed dead. */
const DEAD_AFTER_LEASES = 3
/** A node that has not heard even itself for this many leases, the bus failing it, is cut off (and soon presumed dead). */
const DEAF_AFTER_LEASES = 2
/** A gap this long between two of its own heartbeats: this node heard nobody meanwhile. */
const HEARING_GAP_LEASES = 1.5
/**
 * Shortest lease liveness runs on, ms: below it a process busy for a moment (a large fan-out, a
 * GC pause) would be presumed dead, and every client of the cluster told to re-list.
 */
const MIN_LEASE_MS = 1000
const CHECKS_PER_LEASE = 4
/**
 * How long a node's token outlives its last heartbeat, ms: the survivors take it within a few
 * leases; only a bus that stays unreachable for everyone longer than this loses it.
 */
const TOKEN_TTL_MS = 24 * 60 * 60 * 1000
/** Most tokens of earlier runs a starting node looks at (a cluster has far fewer nodes). */
const LISTED_TOKENS = 10_000
const TOKEN_PREFIX = 'node:'

interface NodeMessage {
  /** `hello`: alive, and just started (everyone answers `alive`, so it learns them at once). */
  readonly kind: 'hello' | 'alive' | 'bye'
  /** One per process run: a node id reused by a restart is a new node. */
  readonly incarnation: string
}

interface Peer {
  readonly nodeId: string
  readonly incarnation: string
  lastHeard: number
}

/** The bus roles liveness uses. */
export type LivenessBus = PubSub & Stash & BusHealth & Partial<StashListing>

export interface LivenessOptions {
  /** Heartbeat period, ms (the `presenceLease` option; at least 1 s is used). */
  leaseMs: number
  /** Tells every client of the cluster to re-list; called on the node that took a dead node's token. */
  announceLoss: () => Promise<void>
  /** Called on every check (4 per lease) with whether this node is cut off. */
  onCheck?: (deaf: boolean) => void
  log: BusLogger
}

const tokenKey = (nodeId: string, incarnation: string): string => `${TOKEN_PREFIX}${nodeId}:${incarnation}`

/** The node a token key names (the incarnation is a UUID: the node id is what comes before its colon). */
function parseTokenKey (key: string): { nodeId: string, incarnation: string } | null {
  const colon = key.lastIndexOf(':')
  if (!key.startsWith(TOKEN_PREFIX) || colon <= TOKEN_PREFIX.length) return null
  return { nodeId: key.slice(TOKEN_PREFIX.length, colon), incarnation: key.slice(colon + 1) }
}

function isNodeMessage (payload: unknown): payload is NodeMessage {
  const message = payload as Partial<NodeMessage> | null
  return typeof message?.incarnation === 'string' && (message.kind === 'hello' || message.kind === 'alive' || message.kind === 'bye')
}

/**
 * Whether the other nodes are still there, so a node that dies without a word cannot take
 * unannounced changes with it: writes it made to the store but never numbered (kill -9 between
 * the two), or delivered alone while cut off from the bus. Each node keeps a token on the bus and
 * says `alive` every lease (`hello` when it starts, which every node answers at once, so a node
 * that dies within its first lease is known); a clean close takes the token back and says `bye`.
 * A node unheard for 3 leases is presumed dead: the survivors race to take its token, and the one
 * that gets it announces the loss (every client re-lists). Only a node that hears its own
 * heartbeat judges the others' silence: one that hears nothing says nothing about them.
 */
export class NodeLiveness {
  private readonly incarnation = randomUUID()
  private readonly peers = new Map<string, Peer>()
  private readonly claims = new Set<Promise<void>>()
  private readonly timers: NodeJS.Timeout[] = []
  private lastHeardSelf = Date.now()
  private beating: Promise<void> | null = null
  /** When the heartbeat now on its way was sent (null: none is). */
  private beatSentAt: number | null = null
  /** The last heartbeat failed (an error, or no answer within the command timeout). */
  private beatFailed = false
  private unsubscribe: Unsubscribe | null = null
  private stopWatchingHealth: () => void = () => {}
  private closed = false

  constructor (private readonly bus: LivenessBus, private readonly options: LivenessOptions) {}

  private get lease (): number {
    return Math.max(this.options.leaseMs, MIN_LEASE_MS)
  }

  private get token (): string {
    return tokenKey(this.bus.nodeId, this.incarnation)
  }

  /**
   * True once this node has heard nothing on the bus, its own heartbeat included, for 2 leases,
   * and the bus is why: it is unreachable, or this node's heartbeats fail or go unanswered. A
   * node merely too busy to read its socket in time is not cut off (its heartbeats still reach
   * the others).
   */
  get deaf (): boolean {
    const now = Date.now()
    const limit = DEAF_AFTER_LEASES * this.lease
    if (now - this.lastHeardSelf <= limit) return false
    return !this.bus.healthy() || this.beatFailed || (this.beatSentAt !== null && now - this.beatSentAt > limit)
  }

  async start (): Promise<void> {
    this.unsubscribe = await this.bus.subscribe(NODES_TOPIC, (envelope) => { this.onMessage(envelope) })
    await this.bus.stash(this.token, { nodeId: this.bus.nodeId }, TOKEN_TTL_MS)
    await this.adoptEarlierTokens()
    this.lastHeardSelf = Date.now()
    await this.bus.publish(NODES_TOPIC, this.message('hello'))
    this.timers.push(setInterval(() => { this.heartbeat() }, this.lease), setInterval(() => { this.check() }, this.lease / CHECKS_PER_LEASE))
    for (const timer of this.timers) timer.unref()
    // Back in touch: say so at once rather than a lease later.
    this.stopWatchingHealth = watchHealth(this.bus, (healthy) => { if (healthy) this.heartbeat() })
  }

  /**
   * Stops. `clean`: nothing this node numbered or dropped is left unannounced, so it takes its
   * token back and says goodbye; otherwise it goes quiet and the others announce the loss.
   * `unsubscribe: false` when the bus is about to be closed anyway.
   */
  async close ({ clean, unsubscribe }: { clean: boolean, unsubscribe: boolean }): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const timer of this.timers.splice(0)) clearInterval(timer)
    this.stopWatchingHealth()
    // A heartbeat still on its way would stash the token again after it is taken.
    await this.beating
    await Promise.allSettled([...this.claims])
    if (clean && this.bus.healthy()) {
      try {
        await this.bus.take(this.token)
        await this.bus.publish(NODES_TOPIC, this.message('bye'))
      } catch (error) {
        this.options.log.warn({ err: error }, 'realtime cluster: goodbye not sent; the others will announce a resync once they miss this node')
      }
    }
    if (unsubscribe) await this.unsubscribe?.().catch((error: unknown) => { this.options.log.warn({ err: error }, 'realtime cluster: unsubscribe failed') })
  }

  /**
   * A node that died without a goodbye while no other node was running (the only instance,
   * killed and started again; every node restarted at once) is known to nobody, yet its token
   * is still on the bus, and writes it made to the store may never have been numbered. Every
   * token found at start counts as a peer just heard: a live node speaks within a lease, a dead
   * one is claimed after 3 like any silent peer (so clients that resume meanwhile are told).
   */
  private async adoptEarlierTokens (): Promise<void> {
    if (this.bus.stashedKeys === undefined) return
    let keys: string[]
    try {
      keys = await this.bus.stashedKeys(TOKEN_PREFIX, LISTED_TOKENS)
    } catch (error) {
      this.options.log.warn({ err: error }, 'realtime cluster: could not list the nodes of earlier runs; a node that died alone may go unannounced')
      return
    }
    const now = Date.now()
    for (const key of keys) {
      const node = parseTokenKey(key)
      if (node === null || (node.nodeId === this.bus.nodeId && node.incarnation === this.incarnation)) continue
      const peerKey = `${node.nodeId}\n${node.incarnation}`
      if (!this.peers.has(peerKey)) this.peers.set(peerKey, { ...node, lastHeard: now })
    }
  }

  private message (kind: NodeMessage['kind']): NodeMessage {
    return { kind, incarnation: this.incarnation }
  }

  private heartbeat (): void {
    if (this.closed || this.beating !== null || !this.bus.healthy()) return
    // The token first: a survivor that took it while this node was silent finds it again.
    this.beatSentAt = Date.now()
    this.beating = this.bus.stash(this.token, { nodeId: this.bus.nodeId }, TOKEN_TTL_MS)
      .then(async () => { await this.bus.publish(NODES_TOPIC, this.message('alive')) })
      .then(() => { this.beatFailed = false }, (error: unknown) => {
        this.beatFailed = true
        this.options.log.warn({ err: error }, 'realtime cluster: liveness heartbeat failed')
      })
      .finally(() => {
        this.beating = null
        this.beatSentAt = null
      })
  }

  private onMessage (envelope: Envelope): void {
    if (this.closed || !isNodeMessage(envelope.payload)) return
    const { kind, incarnation } = envelope.payload
    const now = Date.now()
    if (envelope.origin === this.bus.nodeId && incarnation === this.incarnation) {
      if (kind === 'bye') return
      // This node heard nothing for a while (the bus, or its own event loop, stalled): the
      // others' silence meanwhile says nothing about them, so their leases start again.
      if (now - this.lastHeardSelf > HEARING_GAP_LEASES * this.lease) for (const peer of this.peers.values()) peer.lastHeard = now
      this.lastHeardSelf = now
      return
    }
    const key = `${envelope.origin}\n${incarnation}`
    if (kind === 'bye') {
      this.peers.delete(key)
      return
    }
    this.peers.set(key, { nodeId: envelope.origin, incarnation, lastHeard: now })
    // A node that just started has not heard this one yet: were this one to die before its
    // next heartbeat, nobody else might know to announce it.
    if (kind === 'hello') this.heartbeat()
  }

  private check (): void {
    if (this.closed) return
    const now = Date.now()
    this.options.onCheck?.(this.deaf)
    if (now - this.lastHeardSelf > HEARING_GAP_LEASES * this.lease) return
    const deadline = now - DEAD_AFTER_LEASES * this.lease
    for (const [key, peer] of this.peers) {
      if (peer.lastHeard >= deadline) continue
      this.peers.delete(key)
      const claim = this.claim(key, peer)
      this.claims.add(claim)
      void claim.finally(() => { this.claims.delete(claim) })
    }
  }

  /** Takes a silent node's token; the one node that gets it announces the loss, until it is told. */
  private async claim (key: string, peer: Peer): Promise<void> {
    let token: unknown
    try {
      token = await this.bus.take(tokenKey(peer.nodeId, peer.incarnation))
    } catch (error) {
      this.options.log.warn({ err: error, node: peer.nodeId }, 'realtime cluster: could not claim a silent node\'s token; trying again')
      if (!this.closed && !this.peers.has(key)) this.peers.set(key, peer) // still past its deadline: the next check retries
      return
    }
    // Gone: it said goodbye (nothing to announce), or another node took it and announces.
    if (token === null) return
    this.options.log.warn({ node: peer.nodeId }, 'realtime cluster: a node went silent without a goodbye; its last changes may never have been announced, so every client re-lists')
    for (;;) {
      try {
        await this.options.announceLoss()
        return
      } catch (error) {
        this.options.log.warn({ err: error, node: peer.nodeId }, 'realtime cluster: announcing a lost node failed; retrying')
      }
      if (this.closed) return
      await new Promise((resolve) => setTimeout(resolve, this.lease).unref())
    }
  }
}

/** Client messages that write to the store. */
const WRITES = new Set(['insert', 'update', 'delete'])

/**
 * Keeps an instance that is cut off from acknowledging writes the cluster may never hear of.
 * Once it has heard nothing on the bus for 2 leases (see NodeLiveness.deaf), the others are about to presume it dead
 * (3 leases) and announce the loss of what it wrote until then; a write it acknowledged after
 * that, then dying before the bus returns, would be lost for good. So from then until it hears
 * the bus again and is back in step, a record write sent over a socket closes that socket with
 * 1013 (try again later) instead of being performed. Other messages are served as before.
 */
export class WriteFence {
  private fenced = false

  constructor (private readonly log: FastifyBaseLogger) {}

  get active (): boolean {
    return this.fenced
  }

  /** `deaf`: cut off now; `inStep`: the instance's numbering agrees with the cluster's. */
  update (deaf: boolean, inStep: boolean): void {
    if (deaf && !this.fenced) {
      this.fenced = true
      this.log.warn('realtime cluster: cut off from the bus for 2 leases; refusing writes until back in step')
    } else if (!deaf && inStep && this.fenced) {
      this.fenced = false
      this.log.info('realtime cluster: back in step with the cluster; taking writes again')
    }
  }

  /** The dispatcher's pre-handler. */
  readonly preHandler = (connection: Connection, type: string): void => {
    if (!this.fenced || !WRITES.has(type)) return
    connection.close(CloseCodes.TRY_AGAIN_LATER, 'Out of step with the cluster')
    // Stops the frame here; the socket is closed, so no reply goes out.
    throw new ProtocolError(ErrorCodes.INTERNAL_ERROR, 'Out of step with the cluster')
  }
}
