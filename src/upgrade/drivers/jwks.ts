import { createPublicKey } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { isPlainObject } from '../../util/paths.js'
import { algorithmsForKey, pemOf } from '../../util/jwt-keys.js'

/** How long a fetched key set is used before it is fetched again (when a token needs it). */
export const KEYS_MAX_AGE_MS = 10 * 60_000
/** At most one fetch (successful or not) per this interval, whatever tokens arrive. */
export const REFETCH_INTERVAL_MS = 30_000
/** A kid the key set did not have is not looked up again for this long. */
export const MISS_TTL_MS = 60_000
const MAX_MISSES = 1000
const MAX_KEYS = 100
const MAX_BODY_BYTES = 512 * 1024
const FETCH_TIMEOUT_MS = 5000

export interface JwksSourceOptions<T> {
  /** The JWKS document; null to read `jwks_uri` from the issuer's discovery document each time. */
  readonly jwksUri: string | null
  /** OIDC issuer (with `jwksUri: null`). */
  readonly issuer?: string
  /** Algorithms a key may be used with; a key that supports none of them is ignored. */
  readonly algorithms: readonly string[]
  /** Turns a usable key into what the caller verifies with (built once per fetched key). */
  readonly build: (pem: string, algorithms: string[]) => T
  readonly log: FastifyBaseLogger
  readonly maxAgeMs?: number
  readonly refetchIntervalMs?: number
  readonly missTtlMs?: number
  /** The clock; tests move it instead of waiting. */
  readonly now?: () => number
}

interface Entry<T> {
  readonly algorithms: readonly string[]
  readonly value: T
}

/**
 * Keys from a JWKS endpoint, looked up by `kid`. A token only names a kid, so a forged token can
 * name any: lookups that would go to the network are bounded. The whole key set is fetched at
 * once and kept for `maxAgeMs`; a kid it lacks is remembered as a miss for `missTtlMs`; there is
 * at most one fetch per `refetchIntervalMs` (failures count), and lookups arriving during a
 * fetch wait for that fetch instead of starting their own. When a refresh fails, the last key
 * set stays in use, so a flaky IdP does not log everyone out.
 */
export class JwksSource<T> {
  private keys = new Map<string, Array<Entry<T>>>()
  private fetchedAt: number | null = null
  private lastAttemptAt = Number.NEGATIVE_INFINITY
  private inflight: Promise<boolean> | null = null
  private readonly misses = new Map<string, number>()
  private readonly now: () => number
  private readonly maxAgeMs: number
  private readonly refetchIntervalMs: number
  private readonly missTtlMs: number
  /** Network requests made (discovery and JWKS), for tests and diagnostics. */
  fetches = 0

  constructor (private readonly options: JwksSourceOptions<T>) {
    this.now = options.now ?? Date.now
    this.maxAgeMs = options.maxAgeMs ?? KEYS_MAX_AGE_MS
    this.refetchIntervalMs = options.refetchIntervalMs ?? REFETCH_INTERVAL_MS
    this.missTtlMs = options.missTtlMs ?? MISS_TTL_MS
  }

  /** The key `kid` usable with `alg`, or null when the key set has none. */
  async keyFor (kid: string, alg: string): Promise<T | null> {
    const now = this.now()
    const known = this.pick(kid, alg)
    const fresh = this.fetchedAt !== null && now - this.fetchedAt < this.maxAgeMs
    if (known !== null && fresh) return known
    const missKey = `${alg} ${kid}`
    if (known === null && (this.misses.get(missKey) ?? 0) > now) return null
    const refreshed = await this.refresh(now)
    const found = this.pick(kid, alg)
    // Only a set fetched for this lookup proves the kid absent: one skipped by the interval
    // may predate a key rotation, and remembering that miss would refuse the new key longer.
    if (found === null && refreshed) this.remember(missKey, this.now())
    return found
  }

  private pick (kid: string, alg: string): T | null {
    return this.keys.get(kid)?.find((entry) => entry.algorithms.includes(alg))?.value ?? null
  }

  private remember (missKey: string, now: number): void {
    for (const [key, expiresAt] of this.misses) {
      if (expiresAt > now) break // one lifetime for all: insertion order is expiry order
      this.misses.delete(key)
    }
    this.misses.delete(missKey)
    if (this.misses.size >= MAX_MISSES) this.misses.delete(this.misses.keys().next().value as string)
    this.misses.set(missKey, now + this.missTtlMs)
  }

  /** True when a fetch completed for this call (started by it or joined). */
  private async refresh (now: number): Promise<boolean> {
    if (this.inflight !== null) return await this.inflight
    if (now - this.lastAttemptAt < this.refetchIntervalMs) return false
    this.lastAttemptAt = now
    this.inflight = this.load().then(() => true, (error: unknown) => {
      this.options.log.warn({ jwks: this.options.jwksUri ?? this.options.issuer, reason: (error as Error).message }, 'realtime: could not fetch signing keys')
      return false
    }).finally(() => { this.inflight = null })
    return await this.inflight
  }

  private async load (): Promise<void> {
    const uri = this.options.jwksUri ?? await this.discover()
    const body = await this.getJson(uri)
    if (!isPlainObject(body) || !Array.isArray(body.keys)) throw new Error('the JWKS document has no "keys" array')
    const keys = new Map<string, Array<Entry<T>>>()
    for (const jwk of body.keys.slice(0, MAX_KEYS)) {
      const entry = this.entryOf(jwk)
      if (entry === null) continue
      const list = keys.get(entry.kid) ?? []
      list.push(entry.entry)
      keys.set(entry.kid, list)
    }
    this.keys = keys
    this.fetchedAt = this.now()
  }

  /** A JWK usable for verification: RSA/EC/OKP with a kid, meant for signatures, with an allowed algorithm. */
  private entryOf (jwk: unknown): { kid: string, entry: Entry<T> } | null {
    if (!isPlainObject(jwk)) return null
    const { kid, kty, use, alg } = jwk
    if (typeof kid !== 'string' || kid === '' || kid.length > 256) return null
    // "oct" (a shared secret) is never taken from a JWKS: that is the HS256 confusion again.
    if (kty !== 'RSA' && kty !== 'EC' && kty !== 'OKP') return null
    if (use !== undefined && use !== 'sig') return null
    try {
      const key = createPublicKey({ key: jwk as never, format: 'jwk' })
      const algorithms = (algorithmsForKey(key) ?? []).filter((a) =>
        this.options.algorithms.includes(a) && (alg === undefined || alg === a))
      if (algorithms.length === 0) return null
      return { kid, entry: { algorithms, value: this.options.build(pemOf(key), algorithms) } }
    } catch {
      return null
    }
  }

  private async discover (): Promise<string> {
    const issuer = (this.options.issuer ?? '').replace(/\/$/, '')
    const document = await this.getJson(`${issuer}/.well-known/openid-configuration`)
    const uri = isPlainObject(document) ? document.jwks_uri : undefined
    if (typeof uri !== 'string' || !/^https?:\/\//i.test(uri)) throw new Error('the discovery document has no http(s) jwks_uri')
    return uri
  }

  /** GET with a timeout and a size cap: the IdP's answer is read into memory. */
  private async getJson (uri: string): Promise<unknown> {
    this.fetches++
    const response = await fetch(uri, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) })
    if (!response.ok) {
      await response.body?.cancel()
      throw new Error(`${uri} answered ${response.status}`)
    }
    const chunks: Uint8Array[] = []
    let size = 0
    if (response.body !== null) {
      const reader = response.body.getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        size += value.byteLength
        if (size > MAX_BODY_BYTES) {
          await reader.cancel()
          throw new Error(`${uri} answered more than ${MAX_BODY_BYTES} bytes`)
        }
        chunks.push(value)
      }
    }
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  }
}
