/// <reference lib="dom" />
/**
 * s3db-realtime/client: a dependency-free client for browsers and Node. Browsers load it as an
 * ES module (the demo serves dist/client at /client/); Node uses the `ws` package when there is
 * no global WebSocket.
 */
export { RealtimeClient, createClient, type ClientEvents } from './client.js'
export { Channel, type ChannelEvents } from './channels.js'
export { RealtimeError, ConflictError, ClientErrorCodes } from './errors.js'
export { backoffDelay, resolveReconnect, type ResolvedReconnect } from './backoff.js'
export { jwtExpiry } from './auth.js'
export type {
  BatchDeleteResult, BatchResult, ChangeType, ChannelMessage, ClientOptions, ConnectionState, FieldPath, Filter, FilterCondition, FilterOperators, FilterValue, ListOptions, Member, Page,
  PathValue, PublishedMessage, RecordPaths, TypedFilter,
  RecordData, RecordMap, ReconnectOptions, ResourceName, SocketFactory, SocketLike, StoredRecord, SubscribeOptions,
  SubscriptionEvent, TokenProvider, UpdateOptions, Versioned
} from './types.js'
