import type { FastifyRequest } from 'fastify'

/**
 * Query parameters whose values are credentials, compared after decoding the name the way a
 * query parser would (`%74oken` is `token`), case-insensitively and without a `[...]` suffix:
 * redacting a harmless parameter costs nothing, leaking a token does.
 */
const CREDENTIAL_NAMES = new Set([
  'token', 'access_token', 'id_token', 'refresh_token', 'jwt', 'ticket',
  'apikey', 'api_key', 'api-key', 'key', 'secret', 'password', 'auth', 'authorization'
])

/**
 * `?name=value` / `&name=value`. The value runs to `&`, `#`, a quote or whitespace; `\x` pairs
 * are taken whole so a JSON-escaped character inside a logged URL does not end the value early.
 */
const PARAM = /([?&])([^=&#?"\s\\]{1,256})=((?:[^&#"\s\\]|\\.)*)/g

export const REDACTED = '[REDACTED]'

/** Decodes `%XX` and `+` the way query parsers do, repeatedly (up to 3 times) and leniently. */
function decodeName (raw: string): string {
  let name = raw
  for (let i = 0; i < 3; i++) {
    const next = name.replace(/\+/g, ' ').replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    if (next === name) break
    name = next
  }
  return name.trim().toLowerCase().replace(/\[.*$/, '')
}

function redactParams (text: string): string {
  return text.replace(PARAM, (match, separator: string, name: string) =>
    CREDENTIAL_NAMES.has(decodeName(name)) ? `${separator}${name}=${REDACTED}` : match)
}

/** The URL with credential query values replaced, safe to log. */
export function redactUrl (url: string): string {
  return url.includes('=') ? redactParams(url) : url
}

/**
 * A serialized log line with credential query values replaced wherever a URL appears in it:
 * `req.url`, and messages such as Fastify's "Route GET:/ws/?token=… not found".
 */
export function scrubLogLine (line: string): string {
  return line.includes('=') ? redactParams(line) : line
}

const SCRUBBER = Symbol('s3db-realtime.logScrubber')
type StreamWrite = ((line: string) => string) & { [SCRUBBER]?: true }

/**
 * Makes the app's logger scrub every line it writes, so a token sent to any route (a near miss
 * like `/ws/` that 404s, a route registered before this plugin) never reaches the logs. Request
 * lines are written before any hook runs and 404 messages embed the raw URL, so a route-level
 * serializer cannot cover them; pino's `streamWrite` hook sees every serialized line.
 *
 * The hook lives on the root pino instance (children reach it through their prototype) behind a
 * symbol pino exports for integrations; it is found by its description so the app's own pino
 * copy works too. An existing `streamWrite` hook still runs, first. Returns false when the
 * logger is not pino (or is disabled): then only the upgrade route's serializer redacts.
 */
export function installLogRedaction (log: object): boolean {
  for (let owner: object | null = log; owner !== null; owner = Object.getPrototypeOf(owner) as object | null) {
    const symbol = Object.getOwnPropertySymbols(owner).find((s) => s.description === 'pino.hooks')
    if (symbol === undefined) continue
    const slot = owner as Record<symbol, unknown>
    const hooks = slot[symbol]
    if (hooks === null || typeof hooks !== 'object') return false
    const previous = (hooks as { streamWrite?: unknown }).streamWrite
    if (typeof previous === 'function' && SCRUBBER in previous) return true
    const scrub: StreamWrite = typeof previous === 'function'
      ? (line) => scrubLogLine((previous as (line: string) => string)(line))
      : scrubLogLine
    const marked: StreamWrite = (line) => scrub(line)
    marked[SCRUBBER] = true
    // A copy: pino's default hooks object is shared by every instance made without hooks.
    slot[symbol] = { ...hooks, streamWrite: marked }
    return true
  }
  return false
}

/**
 * Route-level log serializers for the upgrade route: Fastify logs `req.url` on every request
 * ("incoming request"). A second layer under `installLogRedaction`, and the only one when the
 * app's pino is too old to have the `streamWrite` hook.
 */
export const upgradeLogSerializers = {
  req (request: FastifyRequest) {
    return {
      method: request.method,
      url: redactUrl(request.url),
      host: request.host,
      remoteAddress: request.ip,
      remotePort: request.socket?.remotePort
    }
  }
}
