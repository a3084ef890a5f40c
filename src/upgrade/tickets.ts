import { createHash, randomBytes } from 'node:crypto'
import { silentLogger, type BusLogger, type Stash } from '../bus/types.js'
import type { ResolvedTickets } from '../options/tickets.js'
import type { RealtimeUser } from '../types.js'
import { isPlainObject } from '../util/paths.js'
import type { IssuedTicket } from './types.js'

/**
 * A ticket this instance issued. Alone it is the ticket itself; clustered (`user: null`) it only
 * tracks the ticket's bus key for the per-user cap, since the bus is the ticket's home.
 */
interface LocalTicket {
  readonly user: RealtimeUser | null
  readonly userId: string
  readonly expiresAt: number
}

/** What the bus keeps for a ticket. The key is a hash: Redis never sees the credential itself. */
interface SharedTicket {
  user: RealtimeUser
}

const ticketKey = (ticket: string): string => `ticket:${createHash('sha256').update(ticket).digest('base64url')}`

function isSharedTicket (value: unknown): value is SharedTicket {
  return isPlainObject(value) && isPlainObject(value.user) && typeof value.user.id === 'string'
}

/** The ticket route answers 503 with this when the cluster could not take the ticket. */
export class TicketNotSharedError extends Error {
  constructor (cause: unknown) {
    super('The ticket could not be stored for the cluster; try again', { cause })
  }
}

/**
 * Single-use, short-lived tickets. A ticket is 256 random bits; redeeming deletes it first, so
 * two upgrades racing with the same ticket cannot both win.
 *
 * Alone, tickets live in this instance's memory (insertion order is issue order, which makes
 * dropping expired/oldest entries cheap). Clustered (`share`), the bus is their only home: it
 * keeps each under a hash with the ticket's lifetime as TTL, and its atomic `take` decides, so a
 * ticket issued on one instance is redeemed on any other, once. While the bus is unreachable no
 * ticket is honoured, since none can be proven unused.
 *
 * Each user holds at most `maxPerUser` outstanding tickets: a new one evicts that user's own
 * oldest, never anyone else's, so one user minting tickets in a loop cannot push everyone
 * else's pending tickets out through the global `maxOutstanding` cap.
 */
export class TicketStore {
  /** Ticket (alone) or bus key (clustered) -> entry, in issue order. */
  private readonly tickets = new Map<string, LocalTicket>()
  /** User id -> that user's entries here, oldest first; never longer than maxPerUser. */
  private readonly byUser = new Map<string, string[]>()
  private bus: Stash | null = null
  private log: BusLogger = silentLogger

  constructor (private readonly options: ResolvedTickets) {}

  /** Keeps tickets on the cluster's bus from now on. */
  share (bus: Stash, log: BusLogger): void {
    this.bus = bus
    this.log = log
  }

  /** Issues at once; clustered, the ticket becomes redeemable when the bus has stored it. */
  issue (user: RealtimeUser, ttlMs = this.options.ttlMs): IssuedTicket {
    const { issued, stored } = this.create(user, ttlMs)
    stored.catch((error: unknown) => { this.log.warn({ err: error }, 'realtime: ticket not stored for the cluster; it will be refused') })
    return issued
  }

  /** Like `issue`, but resolves once the ticket is redeemable anywhere (the ticket route uses it). */
  async issueShared (user: RealtimeUser, ttlMs = this.options.ttlMs): Promise<IssuedTicket> {
    const { issued, stored } = this.create(user, ttlMs)
    try {
      await stored
    } catch (error) {
      throw new TicketNotSharedError(error)
    }
    return issued
  }

  private create (user: RealtimeUser, ttlMs: number): { issued: IssuedTicket, stored: Promise<void> } {
    if (!isPlainObject(user) || (typeof user.id !== 'string' || user.id === '')) {
      throw new TypeError('issueTicket(user): user must be an object with a non-empty string id')
    }
    if (!Number.isInteger(ttlMs) || ttlMs < 1) throw new TypeError('issueTicket: ttlMs must be a positive integer')
    const ticket = randomBytes(32).toString('base64url')
    const expiresAt = Date.now() + ttlMs
    const issued = { ticket, expiresAt: new Date(expiresAt).toISOString() }
    if (this.bus !== null) {
      const key = ticketKey(ticket)
      this.track(key, { user: null, userId: user.id, expiresAt })
      const value: SharedTicket = { user: { ...user } }
      return { issued, stored: this.bus.stash(key, value, ttlMs) }
    }
    this.track(ticket, { user: { ...user }, userId: user.id, expiresAt })
    return { issued, stored: Promise.resolve() }
  }

  /** Makes room (expired first, then the user's own oldest, then the oldest overall) and adds. */
  private track (id: string, entry: LocalTicket): void {
    const now = Date.now()
    for (const [key, old] of this.tickets) {
      if (old.expiresAt > now) break
      this.forget(key)
    }
    const own = this.byUser.get(entry.userId)
    while (own !== undefined && own.length >= this.options.maxPerUser) this.evict(own[0] as string)
    // Clustered, the global cap only bounds this tracking: another user's ticket stays valid on the bus.
    while (this.tickets.size >= this.options.maxOutstanding) this.forget(this.tickets.keys().next().value as string)
    this.tickets.set(id, entry)
    const list = this.byUser.get(entry.userId)
    if (list === undefined) this.byUser.set(entry.userId, [id])
    else list.push(id)
  }

  /** Invalidates a ticket: forgotten here and, clustered, taken off the bus. */
  private evict (id: string): void {
    this.forget(id)
    if (this.bus === null) return
    this.bus.take(id).catch((error: unknown) => { this.log.warn({ err: error }, 'realtime: could not withdraw an evicted ticket from the cluster') })
  }

  private forget (id: string): void {
    const entry = this.tickets.get(id)
    if (entry === undefined) return
    this.tickets.delete(id)
    const list = this.byUser.get(entry.userId)
    if (list === undefined) return
    const at = list.indexOf(id)
    if (at !== -1) list.splice(at, 1)
    if (list.length === 0) this.byUser.delete(entry.userId)
  }

  /** The ticket's user, once; null when unknown, used or expired. */
  async redeem (ticket: string): Promise<RealtimeUser | null> {
    if (this.bus !== null) {
      const key = ticketKey(ticket)
      this.forget(key)
      try {
        // Redis' own expiry (PX) decides lifetime: no comparison with this host's clock.
        const stored = await this.bus.take(key)
        return isSharedTicket(stored) ? { ...stored.user } : null
      } catch (error) {
        this.log.warn({ err: error }, 'realtime: could not check a ticket with the cluster; refusing it')
        return null
      }
    }
    const local = this.tickets.get(ticket)
    this.forget(ticket)
    return local !== undefined && local.user !== null && local.expiresAt > Date.now() ? { ...local.user } : null
  }

  get size (): number {
    return this.tickets.size
  }

  clear (): void {
    this.tickets.clear()
    this.byUser.clear()
  }
}
