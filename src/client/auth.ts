import type { TokenProvider } from './types.js'

/** Turns the `token` option into a provider (a fixed string never changes). */
export function toProvider (token: string | TokenProvider | undefined): TokenProvider | null {
  if (token === undefined) return null
  if (typeof token === 'function') return token
  if (typeof token === 'string') return () => token
  throw new TypeError('token must be a string or a function returning one')
}

function base64UrlDecode (text: string): string {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=')
  const binary = atob(base64)
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0))
  return new TextDecoder().decode(bytes)
}

/**
 * When a JWT expires (ms since epoch), read without verifying: the client only uses it to
 * refresh in time; the server is the one that checks the signature. Null for other tokens.
 */
export function jwtExpiry (token: string): number | null {
  const parts = token.split('.')
  if (parts.length !== 3 || parts[1] === undefined) return null
  try {
    const payload = JSON.parse(base64UrlDecode(parts[1])) as { exp?: unknown }
    return typeof payload.exp === 'number' && Number.isFinite(payload.exp) ? payload.exp * 1000 : null
  } catch {
    return null // not a JWT (an API key with dots): no expiry to plan for
  }
}

/** Reads `expiresAt` from an `authenticated` reply (ISO string or epoch ms/seconds). */
export function replyExpiry (value: unknown): number | null {
  if (typeof value === 'string') {
    const ms = Date.parse(value)
    return Number.isNaN(ms) ? null : ms
  }
  if (typeof value === 'number' && Number.isFinite(value)) return value < 1e12 ? value * 1000 : value
  return null
}

/** Adds `?token=` (or `?ticket=`) to the socket URL. */
export function withCredential (url: string, param: 'token' | 'ticket', value: string | null): string {
  if (value === null || value === '') return url
  const parsed = new URL(url)
  parsed.searchParams.set(param, value)
  return parsed.toString()
}

/** Longest delay setTimeout honours; a token valid for longer is simply refreshed later. */
const MAX_TIMER = 2_147_483_647

/** Milliseconds until a refresh is due (never negative, never past what a timer can hold). */
export function refreshDelay (expiresAt: number, margin: number, now = Date.now()): number {
  return Math.min(MAX_TIMER, Math.max(0, expiresAt - margin - now))
}
