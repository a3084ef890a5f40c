import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { hostname } from 'node:os'
import { InvalidOptionError } from '../../src/errors.js'
import { resolveAsyncApi } from '../../src/options/asyncapi.js'
import { resolveAuth } from '../../src/options/auth.js'
import { resolveChannels } from '../../src/options/channels.js'
import { resolveCluster } from '../../src/options/cluster.js'
import { resolveCore } from '../../src/options/core.js'
import { resolveCors } from '../../src/options/cors.js'
import { DEFAULTS } from '../../src/options/defaults.js'
import { validateReadinessCheck } from '../../src/options/health.js'
import { KNOWN_OPTIONS, resolveOptions } from '../../src/options/index.js'
import { resolveOperations } from '../../src/options/operations.js'
import { resolvePublisherOptions } from '../../src/options/publisher.js'
import { resolveConnectionRateLimit, resolveMessageRateLimit } from '../../src/options/rate-limits.js'
import { resolveTickets } from '../../src/options/tickets.js'
import { integerBetween, type Fail } from '../../src/options/validate.js'
import type { DatabaseLike, ResourceLike } from '../../src/types.js'

// Option resolution without a socket, a Fastify instance or a bus: every default comes from
// DEFAULTS, every bad value is a coded InvalidOptionError naming the option.

const INVALID = 'S3DB_REALTIME_INVALID_OPTION'
const PREFIX = 'Invalid s3db-realtime option: '

/** The whole message of an InvalidOptionError: its prefix, then `expected` (exact text, or a pattern from its start). */
function optionMessage (expected: string | RegExp): RegExp {
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return typeof expected === 'string'
    ? new RegExp(`^${escape(PREFIX + expected)}$`)
    : new RegExp(`^${escape(PREFIX)}${expected.source.replace(/^\^/, '')}`)
}

function fakeDatabase (...names: string[]): DatabaseLike {
  const resources: Record<string, ResourceLike> = {}
  for (const name of names) resources[name] = { name } as unknown as ResourceLike
  return { resources }
}

const database = fakeDatabase('messages', 'users')
const base = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ database, ...extra })

t.test('DEFAULTS is frozen all the way down', async (t) => {
  t.ok(Object.isFrozen(DEFAULTS))
  for (const group of Object.values(DEFAULTS)) t.ok(Object.isFrozen(group))
  t.ok(Object.isFrozen(DEFAULTS.health.readiness))
  t.ok(Object.isFrozen(DEFAULTS.resource.events))
  t.throws(() => { (DEFAULTS.core as { heartbeatInterval: number }).heartbeatInterval = 1 }, TypeError)
  t.equal(DEFAULTS.core.heartbeatInterval, 30_000)
})

t.test('resolveOptions with only a database: every group holds the values of DEFAULTS', async (t) => {
  const resolved = resolveOptions(base({ resources: { messages: true } }))
  const { core, operations, auth, tickets, cors, connectionRateLimit, rateLimit, channels } = resolved
  t.ok(Object.isFrozen(resolved), 'one frozen object')
  t.equal(core.database, database)
  t.equal(core.path, DEFAULTS.core.path)
  t.equal(core.heartbeatInterval, DEFAULTS.core.heartbeatInterval)
  t.equal(core.heartbeatTimeout, DEFAULTS.core.heartbeatTimeout)
  t.equal(core.maxPayloadSize, DEFAULTS.core.maxPayloadSize)
  t.equal(core.maxQueuedBytes, DEFAULTS.core.maxQueuedBytes.of(DEFAULTS.core.maxPayloadSize))
  t.equal(core.maxQueuedBytes, 4 * 1_048_576, '4 × maxPayloadSize')
  t.equal(core.logLevel, DEFAULTS.core.logLevel)
  t.equal(core.historySize, DEFAULTS.core.historySize)
  t.equal(core.defaultListLimit, DEFAULTS.core.defaultListLimit)
  t.equal(core.maxListLimit, DEFAULTS.core.maxListLimit)
  t.equal(core.maxSubscriptionsPerConnection, DEFAULTS.core.maxSubscriptionsPerConnection)
  t.equal(core.maxQueuedMessages, DEFAULTS.core.maxQueuedMessages)
  t.equal(core.decorator, DEFAULTS.core.decorator)

  const messages = core.resources.get('messages')
  t.ok(messages !== undefined)
  t.equal(messages?.roles, DEFAULTS.resource.auth)
  t.same(messages?.protectedFields, DEFAULTS.resource.protected)
  t.equal(messages?.clientIds, DEFAULTS.resource.clientIds)
  t.same([...messages?.events ?? []], DEFAULTS.resource.events)
  t.same(messages?.guard, DEFAULTS.resource.guard)
  t.equal(messages?.publishAuth, DEFAULTS.resource.publishAuth)
  t.notOk(core.resources.has('users'), 'only the resources named are exposed')

  t.same(operations, {
    health: null,
    metrics: null,
    backpressure: { maxBufferedBytes: DEFAULTS.backpressure.maxBufferedBytes, policy: DEFAULTS.backpressure.policy },
    maxConnections: DEFAULTS.core.maxConnections,
    compression: null,
    drainTimeout: DEFAULTS.core.drainTimeout
  })
  t.equal(resolved.asyncapi, null, 'asyncapi is off by default')
  t.same(auth, { required: DEFAULTS.auth.required, drivers: [], jwt: DEFAULTS.auth.jwt, authenticate: DEFAULTS.auth.authenticate, inBand: DEFAULTS.auth.inBand, handshakeTimeout: DEFAULTS.auth.handshakeTimeout })
  t.same(tickets, { ttlMs: DEFAULTS.tickets.ttlMs, maxOutstanding: DEFAULTS.tickets.maxOutstanding, maxPerUser: DEFAULTS.tickets.maxPerUser, route: null })
  t.equal(cors.explicit, false)
  t.equal(cors.enabled, DEFAULTS.cors.enabled)
  t.equal(cors.origin, DEFAULTS.cors.origin)
  t.equal(connectionRateLimit.enabled, false, 'connectionRateLimit is off until given')
  t.equal(connectionRateLimit.max, DEFAULTS.connectionRateLimit.max)
  t.equal(connectionRateLimit.timeWindow, DEFAULTS.connectionRateLimit.timeWindow)
  t.same(rateLimit, DEFAULTS.rateLimit)
  t.equal(channels.enabled, DEFAULTS.channels.enabled)
  t.same(channels.guards, [])
  t.equal(channels.maxMembers, DEFAULTS.channels.maxMembers)
  t.equal(channels.maxChannelsPerConnection, DEFAULTS.channels.maxChannelsPerConnection)
  t.equal(channels.presenceSummaryThreshold, DEFAULTS.channels.presenceSummaryThreshold)
  t.equal(channels.presenceSummaryInterval, DEFAULTS.channels.presenceSummaryInterval)
  t.equal(channels.maxUserInfoSize, DEFAULTS.channels.maxUserInfoSize)
  t.equal(resolved.cluster, null, 'alone without redis or bus')
})

t.test('a group given as true (or {}) takes its keys from DEFAULTS', async (t) => {
  const ops = resolveOperations({ health: true, metrics: {}, compression: true })
  t.same(ops.health, {
    prefix: DEFAULTS.health.prefix,
    public: DEFAULTS.health.public,
    onRequest: [],
    checks: [],
    s3dbTimeout: DEFAULTS.health.readiness.s3dbTimeout
  })
  t.same(ops.metrics, { registry: null, path: DEFAULTS.metrics.path, prefix: DEFAULTS.metrics.prefix, route: DEFAULTS.metrics.route, public: DEFAULTS.metrics.public, onRequest: [] })
  t.same(ops.compression, { threshold: DEFAULTS.compression.threshold })
  t.equal(resolveOperations({ health: { enabled: false } }).health, null, 'enabled: false turns a given group off')

  t.equal(resolveAsyncApi(true, '/ws'), DEFAULTS.asyncapi.path.of('/ws'))
  t.equal(resolveAsyncApi(true, '/live/'), '/live/asyncapi.json')
  const authenticate = async (): Promise<null> => null
  t.same(resolveTickets({ route: { authenticate } }, '/ws').route, { path: '/ws/ticket', authenticate })
  t.equal(resolveTickets({ route: { authenticate } }, '/').route?.path, '/ticket')
  t.equal(resolveConnectionRateLimit({}).enabled, DEFAULTS.connectionRateLimit.enabled, 'on once given')
  t.equal(resolveChannels(false).enabled, false, 'false is short for { enabled: false }')

  const check = validateReadinessCheck({ name: 'queue', check: () => true }, 'where')
  t.equal(check.timeout, DEFAULTS.readinessCheck.timeout)
  t.equal(check.optional, DEFAULTS.readinessCheck.optional)
})

t.test('cluster: a description of what to open, never an open bus', async (t) => {
  const url = resolveCluster({ redis: 'redis://127.0.0.1:1' })
  t.same(url?.transport, { kind: 'redis', redis: { url: 'redis://127.0.0.1:1', prefix: DEFAULTS.redis.prefix, commandTimeout: DEFAULTS.redis.commandTimeout } })
  t.equal(url?.presenceLease, DEFAULTS.redis.presenceLease)
  t.match(url?.nodeId, new RegExp(`^${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-${process.pid}-[0-9a-f]{8}$`), 'nodeId defaults to hostname-pid-random')
  const tuned = resolveCluster({ redis: { url: 'rediss://r:6380', prefix: 'app', commandTimeout: 50, presenceLease: 200 }, nodeId: 'pod-1' })
  t.same(tuned, { nodeId: 'pod-1', presenceLease: 200, transport: { kind: 'redis', redis: { url: 'rediss://r:6380', prefix: 'app', commandTimeout: 50 } } })
  t.equal(resolveCluster({ nodeId: 'alone' }), null, 'a nodeId alone is checked but joins nothing')
})

t.test('auth drivers are validated and described, not built', async (t) => {
  const auth = resolveAuth({ drivers: [{ driver: 'jwt', config: { secret: 'a-long-enough-shared-secret' } }, { driver: 'apiKey', config: { keys: { k1: { id: 'svc' } } } }] })
  t.equal(auth.drivers.length, 2)
  t.match(auth.drivers[0], { kind: 'hmac', secret: 'a-long-enough-shared-secret', algorithms: [...DEFAULTS.authDriver.hmacAlgorithms], claims: { clockTolerance: DEFAULTS.authDriver.clockTolerance } })
  t.same(auth.drivers[1], { kind: 'apiKey', keys: { k1: { id: 'svc' } } })
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' })
  t.match(resolveAuth({ drivers: [{ driver: 'jwt', config: { publicKey } }] }).drivers[0], { kind: 'publicKey', algorithms: ['ES384'] }, 'the key decides the default algorithm')
  t.match(resolveAuth({ drivers: [{ driver: 'oidc', config: { issuer: 'https://id.example', clientId: 'app' } }] }).drivers[0], {
    kind: 'jwks', name: 'oidc', jwksUri: null, issuer: 'https://id.example', audience: 'app', algorithms: [...DEFAULTS.authDriver.jwksAlgorithms]
  })
  t.same(resolveAuth({ jwt: { namespace: 'ws' } }).jwt, { method: 'wsJwtVerify', namespace: 'ws' })
})

t.test('attachPublisher options: the same validators, its own messages', async (t) => {
  const bus = { nodeId: 'worker' } as unknown
  t.throws(() => resolvePublisherOptions(database, { bus } as never), { code: INVALID, message: optionMessage(/^bus must implement/) })
  t.throws(() => resolvePublisherOptions(database, {}), { code: INVALID, message: optionMessage('attachPublisher needs redis or bus') })
  t.throws(() => resolvePublisherOptions(database, { redis: 'redis://x', historySize: -1 }), { code: INVALID, message: optionMessage(/^historySize must be an integer >= 0/) })
  const resolved = resolvePublisherOptions(database, { redis: 'redis://x', resources: ['messages'] })
  t.equal(resolved.historySize, DEFAULTS.core.historySize)
  t.same([...resolved.resources.keys()], ['messages'])
})

t.test('every bad value throws a coded InvalidOptionError that names the option', async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp | string]> = [
    // core
    [{ heartbeatInterval: -5 }, 'heartbeatInterval must be an integer >= 1 (got -5)'],
    [{ heartbeatTimeout: 1.5 }, /^heartbeatTimeout must be an integer >= 1/],
    [{ path: 'ws' }, 'path must be a string starting with "/"'],
    [{ logLevel: 'loud' }, /^logLevel must be one of silent, fatal/],
    [{ decorator: '1st' }, 'decorator must be a JavaScript identifier'],
    [{ maxPayloadSize: 1 }, /^maxPayloadSize must be an integer >= 64/],
    [{ maxPayloadSize: 1000, maxQueuedBytes: 999 }, /^maxQueuedBytes must be an integer >= 1000/],
    [{ defaultListLimit: 50, maxListLimit: 10 }, 'defaultListLimit must not exceed maxListLimit'],
    [{ historySize: -1 }, /^historySize must be an integer >= 0/],
    [{ resources: [] }, 'resources must be an object keyed by resource name'],
    [{ resources: { messages: 'yes' } }, /^resources\.messages must be true, false or an object/],
    [{ resources: { messages: { protect: ['x'] } } }, 'resources.messages.protect is not a known resource option'],
    [{ resources: { messages: { events: ['upsert'] } } }, 'resources.messages.events: unknown event "upsert"'],
    [{ resources: { messages: { guard: { list: true } } } }, 'resources.messages.guard.list must be a function'],
    [{ resources: { messages: { guard: { read: () => true } } } }, 'resources.messages.guard.read is not a known guard'],
    [{ resources: { messages: { clientIds: 'yes' } } }, 'resources.messages.clientIds must be a boolean'],
    [{ resources: { messages: { protected: [''] } } }, 'resources.messages.protected must be an array of non-empty strings'],
    // operations
    [{ health: { prefix: 'ops' } }, /^health\.prefix must be a path starting with "\/"/],
    [{ health: { readiness: { checks: [{ name: 's3db', check: () => true }] } } }, 'health.readiness.checks: duplicate check name "s3db"'],
    [{ health: { readiness: { checks: [{ name: 'q', check: 1 }] } } }, 'health.readiness.checks[0]: check must be a function'],
    [{ metrics: { prefix: '1x' } }, 'metrics.prefix must be a valid Prometheus name prefix'],
    [{ metrics: { port: 9 } }, 'metrics.port is not a known option'],
    [{ backpressure: { policy: 'queue' } }, 'backpressure.policy must be "drop" or "close"'],
    [{ backpressure: { maxBufferedBytes: 10 } }, /^backpressure\.maxBufferedBytes must be an integer >= 1024/],
    [{ compression: { threshold: -1 } }, /^compression\.threshold must be an integer >= 0/],
    [{ maxConnections: 0 }, /^maxConnections must be an integer >= 1/],
    [{ drainTimeout: -1 }, /^drainTimeout must be an integer >= 0/],
    [{ limits: {} }, /^limits is not an option group/],
    // asyncapi
    [{ asyncapi: { path: '/ws' } }, 'asyncapi.path must differ from the WebSocket path'],
    [{ asyncapi: { route: '/x' } }, 'asyncapi.route is not a known asyncapi option'],
    // auth
    [{ auth: 'jwt' }, /^auth must be an object/],
    [{ auth: { requred: true } }, /^auth\.requred is not a known option \(expected required, jwt, authenticate, inBand, handshakeTimeout, drivers\)$/],
    [{ auth: { required: 'yes' } }, 'auth.required must be a boolean'],
    [{ auth: { handshakeTimeout: 5000 } }, 'auth.handshakeTimeout only applies with auth.inBand: true'],
    [{ auth: { jwt: 'fastify', authenticate: () => null } }, 'auth.jwt and auth.authenticate are alternatives: give one'],
    [{ auth: { drivers: [{ driver: 'saml', config: {} }] } }, 'auth.drivers[0].driver must be "jwt", "oidc" or "apiKey"'],
    [{ auth: { drivers: [{ driver: 'jwt', config: { secret: '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----' } }] } }, /^auth\.drivers\[0\]\.config\.secret looks like key material/],
    [{ auth: { drivers: [{ driver: 'jwt', config: { jwksUri: 'https://id.example/jwks' } }] } }, 'auth.drivers[0].config: "issuer" and "audience" are required with jwksUri'],
    [{ auth: { drivers: [{ driver: 'jwt', config: { secret: 's', clockTolerance: -1 } }] } }, /^auth\.drivers\[0\]\.config\.clockTolerance must be an integer >= 0/],
    // tickets
    [{ tickets: { ttlMs: 0 } }, /^tickets\.ttlMs must be an integer >= 1/],
    [{ tickets: { ttl: 5 } }, 'tickets.ttl is not a known option'],
    [{ tickets: { route: { path: '/t' } } }, /^tickets\.route must be \{ path\?, authenticate/],
    // cors
    [{ cors: { origin: '' } }, /^cors\.origin must be "\*"/],
    [{ cors: { enabled: 'no' } }, 'cors.enabled must be a boolean'],
    // rate limits
    [{ rateLimit: { windowMs: 0 } }, /^rateLimit\.windowMs must be an integer >= 1/],
    [{ rateLimit: { max: 5 } }, 'rateLimit.max is not a known option'],
    [{ connectionRateLimit: { max: 0 } }, /^connectionRateLimit\.max must be an integer >= 1/],
    [{ connectionRateLimit: { keyGenerator: 'ip' } }, 'connectionRateLimit.keyGenerator must be a function'],
    [{ connectionRateLimit: null }, /^connectionRateLimit must be an object/],
    // channels
    [{ channels: 'on' }, 'channels must be true, false or an object'],
    [{ channels: { maxMembers: 0 } }, 'channels.maxMembers must be an integer >= 1 (got 0)'],
    [{ channels: { presenceSummaryInterval: 5 } }, /^channels\.presenceSummaryInterval must be an integer >= 10/],
    [{ channels: { guards: { 'private-*': true } } }, 'channels.guards["private-*"] must be a function'],
    [{ channels: { members: 5 } }, 'channels.members is not a known channels option'],
    // cluster
    [{ redis: 'http://localhost:6379' }, 'redis must be a redis:// or rediss:// URL'],
    [{ redis: { url: 'redis://x', db: 1 } }, 'redis.db is not a known option'],
    [{ redis: {} }, 'redis needs exactly one of url, nodes or client'],
    [{ redis: { url: 'redis://x', nodes: ['redis://y:7000'] } }, 'redis needs exactly one of url, nodes or client'],
    [{ redis: { nodes: [] } }, 'redis.nodes must be a non-empty array of at most 100 redis:// URLs'],
    [{ redis: { nodes: 'redis://y:7000' } }, 'redis.nodes must be a non-empty array of at most 100 redis:// URLs'],
    [{ redis: { nodes: ['redis://y:7000', 'rediss://z:7000'] } }, /^redis\.nodes\[1\] must be a redis:\/\/host:port URL/],
    [{ redis: { nodes: ['redis://y:7000/2'] } }, /^redis\.nodes\[0\] must be a redis:\/\/host:port URL/],
    [{ redis: { url: 'redis://x', presenceLease: 10 } }, /^redis\.presenceLease must be an integer >= 100/],
    [{ redis: 'redis://x', bus: {} }, 'give either redis or bus, not both'],
    [{ nodeId: '' }, 'nodeId must be a non-empty string of at most 128 characters']
  ]
  for (const [options, message] of cases) {
    t.throws(() => resolveOptions(base(options)), { code: INVALID, message: optionMessage(message) }, JSON.stringify(options))
  }
  const error = (() => { try { resolveOptions(base({ heartbeatInterval: 0 })) } catch (e) { return e } })()
  t.type(error, InvalidOptionError)
})

t.test('database and resources: a missing database, an unknown resource', async (t) => {
  t.throws(() => resolveOptions({}), { code: INVALID, message: optionMessage('database must be an s3db.js Database instance') })
  t.throws(() => resolveOptions(null), { code: INVALID, message: optionMessage('options must be an object') })
  t.throws(() => resolveOptions(base({ resources: { ghosts: true } })), { code: 'S3DB_REALTIME_UNKNOWN_RESOURCE' })
  t.equal(resolveCore(base({ resources: { messages: false } })).resources.size, 0, 'false disables')
})

t.test('unknown top-level keys are refused; the known ones are exactly what the groups read', async (t) => {
  t.throws(() => resolveOptions(base({ heartbeat: 5 })), { code: INVALID, message: optionMessage('unknown option "heartbeat"') })
  t.throws(() => resolveOptions(base({ port: 3001 })), { code: INVALID, message: optionMessage('unknown option "port"') }, 'WebSocketPlugin keys are not plugin options')
  // Every top-level default names a known option, and every known option resolves when given.
  for (const key of Object.keys(DEFAULTS.core)) t.ok(KNOWN_OPTIONS.has(key), `${key} is known`)
  t.ok(KNOWN_OPTIONS.has('database') && KNOWN_OPTIONS.has('auth') && KNOWN_OPTIONS.has('tickets') && KNOWN_OPTIONS.has('rateLimit'))
})

t.test('two mistakes: the one checked first is reported, in the order the groups always had', async (t) => {
  t.throws(() => resolveOptions(base({ auth: 5, heartbeatInterval: 0 })), { message: optionMessage(/^heartbeatInterval/) })
  t.throws(() => resolveOptions(base({ redis: 'http://x', channels: 'on' })), { message: optionMessage(/^channels must be/) })
})

t.test('the group resolvers are callable alone, with the same messages', async (t) => {
  t.throws(() => resolveCors(5), { code: INVALID, message: optionMessage(/^cors must be an object/) })
  t.throws(() => resolveMessageRateLimit({ enabled: 1 }), { code: INVALID, message: optionMessage('rateLimit.enabled must be a boolean') })
  t.throws(() => resolveChannels({ enabled: 'yes' }), { code: INVALID, message: optionMessage('channels.enabled must be a boolean') })
  t.throws(() => resolveAsyncApi('yes', '/ws'), { code: INVALID, message: optionMessage('asyncapi must be a boolean or { path?: string }') })
  t.throws(() => resolveTickets({ route: { authenticate: () => null, path: 'ticket' } }, '/ws'), { code: INVALID, message: optionMessage('tickets.route.path must start with "/"') })
  t.throws(() => resolveOperations({ health: 'on' }), { code: INVALID, message: optionMessage('health must be a boolean or an object') })
})

t.test('a caller (the CLI) can reuse a validator with its own error', async (t) => {
  class ConfigProblem extends Error {}
  const own: Fail = (message) => { throw new ConfigProblem(message) }
  t.equal(integerBetween('8080', 'port', 0, 65535, own), 8080, 'numeric strings count (environment variables)')
  t.throws(() => integerBetween('eighty', 'port', 0, 65535, own), new ConfigProblem('port must be an integer from 0 to 65535 (got "eighty")'))
  t.throws(() => integerBetween(70000, 'port', 0, 65535), { code: INVALID })
})
