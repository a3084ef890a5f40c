import type { RealtimeUser } from '../types.js'
import { compileGlob, type Glob } from '../util/glob.js'
import { isPlainObject } from '../util/paths.js'
import { DEFAULTS } from './defaults.js'
import { fail, onlyKeys, positiveInteger } from './validate.js'

/** What a channel guard may answer. A thrown error or a rejected promise also denies. */
export type ChannelGuardResult = boolean | { authorized: boolean, reason?: string }

/**
 * Decides whether `user` may join a `private-*` / `presence-*` channel. Called only for
 * authenticated users (anonymous clients are refused before any guard runs). `userInfo` is the
 * member's `userInfo` (channels' UserInfo).
 */
export type ChannelGuard = (
  user: RealtimeUser,
  channel: string,
  userInfo: Record<string, unknown>
) => ChannelGuardResult | Promise<ChannelGuardResult>

/** The `channels` option group. `true`/`false` is short for `{ enabled }`. */
export interface ChannelsOptions {
  /** Turn channels off: join/leave/channel:* answer CHANNELS_DISABLED. @default true */
  enabled?: boolean
  /**
   * Guards for private and presence channels, keyed by glob pattern (`*` = any characters),
   * matched against the full name and the name without its `private-`/`presence-` prefix.
   * The most specific matching pattern (most literal characters) decides.
   * @default {} (any authenticated user may join)
   */
  guards?: Record<string, ChannelGuard>
  /** Members (users, not sockets) one channel may hold; further joins get LIMIT_EXCEEDED. @default 10000 */
  maxMembers?: number
  /** Channels one connection may be in at once. @default 100 */
  maxChannelsPerConnection?: number
  /**
   * Above this many members, presence joins/leaves are no longer pushed one by one but as a
   * periodic `presence:count` summary, and `channel:joined` carries no member list. @default 100
   */
  presenceSummaryThreshold?: number
  /** How often pending `presence:count` summaries are sent, ms. @default 1000 */
  presenceSummaryInterval?: number
  /** Largest `userInfo` (bytes of JSON) a member may carry. @default 2048 */
  maxUserInfoSize?: number
}

export interface ResolvedChannelsOptions {
  readonly enabled: boolean
  readonly guards: ReadonlyArray<{ glob: Glob, guard: ChannelGuard }>
  readonly maxMembers: number
  readonly maxChannelsPerConnection: number
  readonly presenceSummaryThreshold: number
  readonly presenceSummaryInterval: number
  readonly maxUserInfoSize: number
}

const KEYS = Object.keys(DEFAULTS.channels)

export function resolveChannels (input: unknown): ResolvedChannelsOptions {
  if (input === undefined || typeof input === 'boolean') return resolveChannels({ enabled: input ?? DEFAULTS.core.channels })
  if (!isPlainObject(input)) fail('channels must be true, false or an object')
  onlyKeys(input, 'channels', KEYS, 'channels option')
  const defaults = DEFAULTS.channels
  const enabled = input.enabled ?? defaults.enabled
  if (typeof enabled !== 'boolean') fail('channels.enabled must be a boolean')
  const guardsInput = input.guards ?? defaults.guards
  if (!isPlainObject(guardsInput)) fail('channels.guards must be an object of glob pattern -> function')
  const guards = Object.entries(guardsInput).map(([pattern, guard]) => {
    if (pattern === '') fail('channels.guards: a pattern must not be empty')
    if (typeof guard !== 'function') fail(`channels.guards["${pattern}"] must be a function`)
    return { glob: compileGlob(pattern), guard: guard as ChannelGuard }
  })
  return Object.freeze({
    enabled,
    guards,
    maxMembers: positiveInteger(input.maxMembers, 'channels.maxMembers', defaults.maxMembers, 1),
    maxChannelsPerConnection: positiveInteger(input.maxChannelsPerConnection, 'channels.maxChannelsPerConnection', defaults.maxChannelsPerConnection, 1),
    presenceSummaryThreshold: positiveInteger(input.presenceSummaryThreshold, 'channels.presenceSummaryThreshold', defaults.presenceSummaryThreshold, 1),
    presenceSummaryInterval: positiveInteger(input.presenceSummaryInterval, 'channels.presenceSummaryInterval', defaults.presenceSummaryInterval, 10),
    maxUserInfoSize: positiveInteger(input.maxUserInfoSize, 'channels.maxUserInfoSize', defaults.maxUserInfoSize, 2)
  })
}
