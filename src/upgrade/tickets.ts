import { randomBytes } from 'node:crypto'
import { fail, positiveInteger } from '../options.js'
import type { RealtimeUser } from '../types.js'
import { isPlainObject } from '../util/paths.js'
import type { IssuedTicket, TicketOptions } from './types.js'

export interface ResolvedTickets {
  readonly ttlMs: number
  readonly maxOutstanding: number
  readonly route: { readonly path: string, readonly authenticate: NonNullable<TicketOptions['route']>['authenticate'] } | null
}

function joinPath (base: string, leaf: string): string {
  return base.endsWith('/') ? `${base}${leaf}` : `${base}/${leaf}`
}

export function resolveTicketOptions (input: unknown, wsPath: string): ResolvedTickets {
  if (input === undefined) return { ttlMs: 30_000, maxOutstanding: 10_000, route: null }
  if (!isPlainObject(input)) fail('tickets must be an object { ttlMs?, maxOutstanding?, route? }')
  for (const key of Object.keys(input)) {
    if (!['ttlMs', 'maxOutstanding', 'route'].includes(key)) fail(`tickets.${key} is not a known option`)
  }
  let route: ResolvedTickets['route'] = null
  if (input.route !== undefined && input.route !== false) {
    const r = input.route
    if (!isPlainObject(r) || typeof r.authenticate !== 'function') {
      fail('tickets.route must be { path?, authenticate(request, reply) } (the app decides who gets a ticket)')
    }
    const path = r.path ?? joinPath(wsPath, 'ticket')
    if (typeof path !== 'string' || !path.startsWith('/')) fail('tickets.route.path must start with "/"')
    route = { path, authenticate: r.authenticate as NonNullable<TicketOptions['route']>['authenticate'] }
  }
  return {
    ttlMs: positiveInteger(input.ttlMs, 'tickets.ttlMs', 30_000),
    maxOutstanding: positiveInteger(input.maxOutstanding, 'tickets.maxOutstanding', 10_000),
    route
  }
}

/**
 * Single-use, short-lived tickets kept in memory on this instance. A ticket is 256 random bits;
 * redeeming deletes it first, so two upgrades racing with the same ticket cannot both win.
 * Map insertion order is issue order, which makes dropping expired/oldest entries cheap.
 */
export class TicketStore {
  private readonly tickets = new Map<string, { user: RealtimeUser, expiresAt: number }>()

  constructor (private readonly options: ResolvedTickets) {}

  issue (user: RealtimeUser, ttlMs = this.options.ttlMs): IssuedTicket {
    if (!isPlainObject(user) || (typeof user.id !== 'string' || user.id === '')) {
      throw new TypeError('issueTicket(user): user must be an object with a non-empty string id')
    }
    if (!Number.isInteger(ttlMs) || ttlMs < 1) throw new TypeError('issueTicket: ttlMs must be a positive integer')
    this.sweep()
    while (this.tickets.size >= this.options.maxOutstanding) {
      const oldest = this.tickets.keys().next().value as string
      this.tickets.delete(oldest)
    }
    const ticket = randomBytes(32).toString('base64url')
    const expiresAt = Date.now() + ttlMs
    this.tickets.set(ticket, { user: { ...user }, expiresAt })
    return { ticket, expiresAt: new Date(expiresAt).toISOString() }
  }

  /** The ticket's user, once; null when unknown, used or expired. */
  redeem (ticket: string): RealtimeUser | null {
    const entry = this.tickets.get(ticket)
    if (entry === undefined) return null
    this.tickets.delete(ticket)
    return entry.expiresAt > Date.now() ? { ...entry.user } : null
  }

  get size (): number {
    return this.tickets.size
  }

  /** Drops expired tickets from the front (roughly issue order); stops at the first live one. */
  private sweep (): void {
    const now = Date.now()
    for (const [ticket, entry] of this.tickets) {
      if (entry.expiresAt > now) break
      this.tickets.delete(ticket)
    }
  }

  clear (): void {
    this.tickets.clear()
  }
}
