import type { FastifyReply, FastifyRequest } from 'fastify'
import { DEFAULTS } from './defaults.js'
import { onOff } from './health.js'
import { fail, integerBetween, onlyKeys, routePath, stringList } from './validate.js'

/**
 * Your own check for the inspector page and for sockets that ask for the inspector on their
 * upgrade (`?inspector=1`): a session cookie, basic auth, an IP allow-list. Return true to allow.
 * False answers 403 on the page (reply yourself for anything else, e.g. a 401 with
 * `WWW-Authenticate`); on a socket's upgrade it only withholds the inspector (no refusal).
 */
export type InspectorAuthorize = (request: FastifyRequest, reply: FastifyReply) => boolean | Promise<boolean>

/**
 * `inspector` option: a live page of this instance's connections, subscriptions, channels,
 * rates and bus, fed over the WebSocket (`{type:'inspect'}`). Off unless given.
 */
export interface InspectorOptions {
  /** On once the group is given. @default true */
  enabled?: boolean
  /** Route of the HTML page. @default '/realtime/inspector' */
  path?: string
  /** Users with one of these roles may `inspect` over their socket. @default ['admin'] */
  roles?: string[]
  /** Also lets sockets (and the page) through when it returns true; the page is open to anyone without it. */
  authorize?: InspectorAuthorize
  /** ms between two pushes to watching sockets (and two samples of the charts). @default 1000 */
  interval?: number
  /** Connections, subscriptions per resource and channels listed at most (totals stay exact). @default 50 */
  limit?: number
}

export interface ResolvedInspector {
  readonly path: string
  readonly roles: readonly string[]
  readonly authorize: InspectorAuthorize | null
  readonly interval: number
  readonly limit: number
}

const KEYS = ['enabled', 'path', 'roles', 'authorize', 'interval', 'limit']

/** Null when off (the default); throws the coded option error when invalid. */
export function resolveInspector (input: unknown, wsPath: string): ResolvedInspector | null {
  const value = onOff(input, 'inspector', DEFAULTS.core.inspector, DEFAULTS.inspector.enabled)
  if (value === false) return null
  const given = value === true ? {} : value
  onlyKeys(given, 'inspector', KEYS)
  const path = routePath(given.path, 'inspector.path', DEFAULTS.inspector.path)
  if (path === '' || path === wsPath) fail('inspector.path must be a route of its own (not empty, not the WebSocket path)')
  const roles = given.roles === undefined ? [...DEFAULTS.inspector.roles] : stringList(given.roles, 'inspector.roles')
  const authorize = given.authorize ?? DEFAULTS.inspector.authorize
  if (authorize !== null && typeof authorize !== 'function') fail('inspector.authorize must be a function (request, reply) => boolean')
  if (roles.length === 0 && authorize === null) fail('inspector: give roles or authorize, or nobody can use it')
  return Object.freeze({
    path,
    roles: Object.freeze(roles),
    authorize: authorize as InspectorAuthorize | null,
    interval: given.interval === undefined ? DEFAULTS.inspector.interval : integerBetween(given.interval, 'inspector.interval', 100, 60_000),
    limit: given.limit === undefined ? DEFAULTS.inspector.limit : integerBetween(given.limit, 'inspector.limit', 1, 1000)
  })
}
