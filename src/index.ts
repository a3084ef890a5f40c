import fp from 'fastify-plugin'
import { realtimePlugin } from './plugin.js'

/** The Fastify plugin: `app.register(s3dbRealtime, { database, resources })`. */
const s3dbRealtime = fp(realtimePlugin, { name: 's3db-realtime', fastify: '5.x' })
export default s3dbRealtime
export { s3dbRealtime }

export { WebSocketPlugin, NotRunningError, type WebSocketPluginOptions } from './compat/websocket-plugin.js'
export { ErrorCodes, CloseCodes, ProtocolError, InvalidOptionError, UnknownResourceError, type ErrorCode } from './errors.js'
export { installGracefulShutdown, detachExitingSignalHandlers, type GracefulShutdownOptions } from './observability/shutdown.js'
export type { HealthOptions, MetricsOptions, BackpressureOptions, BackpressurePolicy, CompressionOptions } from './options/operations.js'
export type { ReadinessCheck, ReadinessAnswer, CheckResult, ReadinessReport } from './observability/readiness.js'
export type { RealtimeOptions } from './options/realtime-options.js'
export type { ResourceConfig, ResourceOptions, ResourceGuards, GuardResult } from './options/resources.js'
export type { LogLevel } from './options/core.js'
export type { RealtimeApi, RealtimeEvents } from './api.js'
export type { HubMetrics, ClientView } from './hub/local-hub.js'
export type { ServerInfo } from './hub/server-state.js'
export type { ChannelEvent, ChannelInfo, ChannelStats, ChannelSummary, ChannelType, PresenceMember } from './channels/types.js'
export type { ClientInfo } from './connection/connection.js'
export type { Filter, FilterValue, FilterOperators, FilterCondition, RealtimeUser, ChangeType, DatabaseLike, ResourceLike, RecordData } from './types.js'
export { attachPublisher, type Publisher } from './cluster/publisher.js'
export type { PublisherOptions } from './options/publisher.js'
export { MemoryBus, MemoryBroker, type MemoryBusOptions } from './bus/memory.js'
export { RedisBus, type RedisBusOptions } from './bus/redis.js'
export type { Bus, Envelope, EnvelopeHandler, LogHead, LogRead, Unsubscribe, BusLogger } from './bus/types.js'
export type { RedisOption, ClusterOptions } from './options/cluster.js'
export type { AuthOptions, AuthDriverOptions, JwtDriverConfig, OidcDriverConfig, ApiKeyDriverConfig } from './options/auth.js'
export type { TicketOptions } from './options/tickets.js'
export type { CorsOptions, OriginMatcher } from './options/cors.js'
export type { ConnectionRateLimitOptions, MessageRateLimitOptions } from './options/rate-limits.js'
export type { IssuedTicket } from './upgrade/types.js'
export { buildAsyncApi } from './protocol/asyncapi.js'
