import type { RealtimeUser } from '../types.js'

// The option types of authentication, tickets, CORS and rate limits are in src/options/
// (auth.ts, tickets.ts, cors.ts, rate-limits.ts); these are the upgrade's own run-time types.

/** What `issueTicket` returns. */
export interface IssuedTicket {
  ticket: string
  expiresAt: string
}

/**
 * The outcome of checking a credential. `no-user-id`: it verified but names nobody (no `id` or
 * `sub`), which is refused with a message saying so, not as an invalid token.
 */
export type Verified =
  | { readonly ok: true, readonly user: RealtimeUser }
  | { readonly ok: false, readonly reason: 'invalid' | 'no-user-id', readonly message: string, readonly claimNames?: readonly string[] }

/** A built-in token verifier. */
export interface AuthDriver {
  readonly name: string
  verify (token: string): Promise<Verified>
}
