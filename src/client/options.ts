import { toProvider } from './auth.js'
import { resolveReconnect, type ResolvedReconnect } from './backoff.js'
import type { ClientOptions, SocketFactory, TokenProvider } from './types.js'

export interface ResolvedClientOptions {
  readonly url: string
  readonly token: TokenProvider | null
  /** The query parameter the credential travels in. */
  readonly credentialParam: 'token' | 'ticket'
  /** Only a provider function can hand out a fresher token; a fixed string is never refreshed. */
  readonly canRefresh: boolean
  readonly requestTimeout: number
  readonly connectTimeout: number
  readonly reconnect: ResolvedReconnect | null
  readonly refreshBeforeExpiry: number
  /** 0 = off. */
  readonly heartbeatInterval: number
  readonly resyncPageSize: number
  /** Re-lists after a pushed RESYNC_REQUIRED wait a random delay below this, ms (0 = none). */
  readonly resyncJitter: number
  readonly socketFactory: SocketFactory | null
  /** The credential goes in a first `auth` message instead of the URL. */
  readonly inBandAuth: boolean
}

function positive (value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number of milliseconds`)
  return value
}

/** Validates client options once, up front: a typo fails at construction, not mid-session. */
export function resolveClientOptions (options: ClientOptions): ResolvedClientOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('createClient needs an options object with a url')
  if (typeof options.url !== 'string' || !/^wss?:\/\//i.test(options.url)) throw new TypeError('url must be a ws:// or wss:// URL')
  if (options.socketFactory !== undefined && typeof options.socketFactory !== 'function') throw new TypeError('socketFactory must be a function')
  if (options.reconnect !== undefined && options.reconnect !== false && (options.reconnect === null || typeof options.reconnect !== 'object')) {
    throw new TypeError('reconnect must be an options object or false')
  }
  if (options.ticket !== undefined && typeof options.ticket !== 'function') throw new TypeError('ticket must be a function returning a ticket')
  if (options.ticket !== undefined && options.token !== undefined) throw new TypeError('give token or ticket, not both')
  if (options.inBandAuth !== undefined && typeof options.inBandAuth !== 'boolean') throw new TypeError('inBandAuth must be a boolean')
  const resyncPageSize = positive(options.resyncPageSize, 'resyncPageSize', 100)
  const resyncJitter = options.resyncJitter ?? 1000
  if (typeof resyncJitter !== 'number' || !Number.isFinite(resyncJitter) || resyncJitter < 0) throw new TypeError('resyncJitter must be a number of milliseconds, 0 or more')
  if (!Number.isInteger(resyncPageSize)) throw new TypeError('resyncPageSize must be an integer')
  return {
    url: options.url,
    token: options.ticket ?? toProvider(options.token),
    credentialParam: options.ticket !== undefined ? 'ticket' : 'token',
    canRefresh: typeof options.token === 'function',
    requestTimeout: positive(options.requestTimeout, 'requestTimeout', 10_000),
    connectTimeout: positive(options.connectTimeout, 'connectTimeout', 10_000),
    reconnect: options.reconnect === false ? null : resolveReconnect(options.reconnect ?? {}),
    refreshBeforeExpiry: positive(options.refreshBeforeExpiry, 'refreshBeforeExpiry', 30_000),
    resyncPageSize,
    resyncJitter,
    heartbeatInterval: options.heartbeatInterval === 0 ? 0 : positive(options.heartbeatInterval, 'heartbeatInterval', 25_000),
    socketFactory: options.socketFactory ?? null,
    inBandAuth: options.inBandAuth ?? false
  }
}
