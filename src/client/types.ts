/**
 * Public types of the s3db-realtime client. Kept free of server imports: the client is served to
 * browsers as-is from dist/client, so nothing here may reach outside src/client.
 */

/** A record as the server sends it. */
export type RecordData = Record<string, unknown>

/** Maps resource names to record types: `createClient<{ messages: Message }>(…)`. */
export type RecordMap = Record<string, object>

/** The resource names of a record map (any string when the map is the untyped default). */
export type ResourceName<R extends RecordMap> = keyof R & string

/** A record of resource `K`, as stored: the user's fields plus the id s3db assigns. */
export type StoredRecord<R extends RecordMap, K extends ResourceName<R>> = R[K] & { id: string }

/** A value a filter compares with: the plain form `{status: 'open'}`, `$eq`, `$ne`, `$in`, `$nin`. */
export type FilterValue = string | number | boolean | null

/**
 * Operators on one field, ANDed (docs/protocol.md, "Filters"). Ranges take a number or a string
 * and never match the other type; dates compare as ISO 8601 strings.
 */
export interface FilterOperators<V = FilterValue> {
  readonly $eq?: V
  readonly $ne?: V
  readonly $gt?: Extract<V, string | number>
  readonly $gte?: Extract<V, string | number>
  readonly $lt?: Extract<V, string | number>
  readonly $lte?: Extract<V, string | number>
  readonly $in?: readonly V[]
  readonly $nin?: readonly V[]
  readonly $exists?: boolean
  readonly $prefix?: Extract<V, string>
}

/** What one field of a filter asks: a value (equality) or operators. */
export type FilterCondition<V = FilterValue> = V | FilterOperators<V>

/** A filter on fields or dot paths (`'meta.kind'`); every entry must match. Untyped form. */
export type Filter = Record<string, FilterCondition>

/** Nesting depth `RecordPaths` follows (deeper paths are left to the untyped `Filter`). */
type PathDepth = [never, 0, 1, 2, 3, 4]

/** Dates travel as ISO 8601 strings: a filter compares them as text. */
type Filterable<V> = V extends Date ? string : Extract<V, FilterValue>

/** Whether `V` is an object a dot path may step into (not an array, not a Date). */
type Nested<V> = V extends readonly unknown[] ? never : V extends Date ? never : V extends object ? V : never

/** Every field of `T` and every dot path into its nested objects: `'title' | 'author' | 'author.name'`. */
export type RecordPaths<T, D extends number = 5> = [D] extends [never] ? never : {
  [K in keyof T & string]-?: K | (Nested<NonNullable<T[K]>> extends never ? never : `${K}.${RecordPaths<Nested<NonNullable<T[K]>>, PathDepth[D]>}`)
}[keyof T & string]

/** The type at a dot path of `T`. */
export type PathValue<T, P extends string> =
  P extends keyof T ? T[P]
    : P extends `${infer Head}.${infer Rest}`
      ? Head extends keyof T ? PathValue<NonNullable<T[Head]>, Rest> : never
      : never

/**
 * A filter for records of type `T`: keys are its fields and dot paths, values match their types,
 * operators included (`{done: {$ne: true}}`, `{'author.name': {$prefix: 'A'}}`). A record type
 * with an index signature (the untyped client) gets the untyped `Filter`.
 */
/** A path `fields` may name: any field or dot path of `T` (any string for the untyped client). */
export type FieldPath<T> = string extends keyof T ? string : RecordPaths<T>

export type TypedFilter<T> = string extends keyof T ? Filter : {
  [P in RecordPaths<T>]?: FilterCondition<Filterable<PathValue<T, P>>>
}

export type ChangeType = 'insert' | 'update' | 'delete'

/** Where the connection is. `reconnecting` covers both the backoff wait and the retry itself. */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'

/** Reconnection policy: delay = min(maxDelay, initialDelay * factor^attempt), then jittered. */
export interface ReconnectOptions {
  /** First retry delay, ms. @default 500 */
  initialDelay?: number
  /** Upper bound of a retry delay, ms. @default 10000 */
  maxDelay?: number
  /** Growth per failed attempt. @default 2 */
  factor?: number
  /** Fraction of the delay that is randomized (0 = none, 1 = full jitter). @default 0.5 */
  jitter?: number
  /** Attempts before giving up and moving to `closed`. @default Infinity */
  maxAttempts?: number
}

/** Gives the token for each (re)connect and each refresh; null connects anonymously. */
export type TokenProvider = () => string | null | Promise<string | null>

/** The subset of the WebSocket API the client uses (browser WebSocket and `ws` both fit). */
export interface SocketLike {
  readonly readyState: number
  send (data: string): void
  close (code?: number, reason?: string): void
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code: number, reason: string }) => void) | null
  onerror: ((event: unknown) => void) | null
}
export type SocketFactory = (url: string) => SocketLike

export interface ClientOptions {
  /** WebSocket URL, e.g. `ws://localhost:3000/ws`. */
  url: string
  /** A token, or a provider called on every (re)connect and refresh. Sent as `?token=`. */
  token?: string | TokenProvider
  /**
   * Instead of `token`: fetches a one-time ticket for each (re)connect (e.g. from the server's
   * `POST /ws/ticket` route), sent as `?ticket=`, so no long-lived token appears in URLs.
   */
  ticket?: TokenProvider
  /** How long a request waits for its reply, ms. @default 10000 */
  requestTimeout?: number
  /**
   * Send the token (or ticket) as the first message, `{type:'auth', token}`, instead of in the
   * URL: the recommended browser path. Tokens stay out of URLs and request logs, and a refusal
   * arrives as a protocol error (UNAUTHORIZED, FORBIDDEN) the client can report, where a browser
   * hides the HTTP status of a refused upgrade. The server must accept it: `auth.inBand: true`
   * when `auth.required`. @default false
   */
  inBandAuth?: boolean
  /**
   * How long opening a socket (until the server's `connected`) may take, ms; also how long
   * `connect()` waits before rejecting with CONNECT_FAILED (e.g. the server is down).
   * @default 10000
   */
  connectTimeout?: number
  /** Reconnection policy, or false to stay closed after a drop. @default {} (enabled) */
  reconnect?: ReconnectOptions | false
  /** Refresh the token this many ms before it expires (JWT `exp` or the server's `expiresAt`). @default 30000 */
  refreshBeforeExpiry?: number
  /**
   * Send `{type:'ping'}` this often, ms; no reply within `requestTimeout` closes the socket and
   * reconnects (a peer that vanished without closing is otherwise noticed only much later).
   * 0 turns it off. @default 25000
   */
  heartbeatInterval?: number
  /** Page size used when re-listing after RESYNC_REQUIRED. @default 100 */
  resyncPageSize?: number
  /**
   * Upper bound of a random wait, ms, before a subscription re-lists after the server pushed
   * RESYNC_REQUIRED on an open socket and could not replay (e.g. a cluster fault): each waits
   * a uniform random delay in [0, resyncJitter), so clients told at the same moment spread their
   * listings instead of all reading the store at once. Resuming without a re-list is not
   * delayed, nor is a re-list after a reconnect (the reconnect delay already spreads those).
   * 0 turns it off. @default 1000
   */
  resyncJitter?: number
  /** Opens sockets; defaults to the global WebSocket, else the `ws` package (Node). */
  socketFactory?: SocketFactory
}

/** What a subscription handler receives. */
export type SubscriptionEvent<T> =
  /**
   * `left: true` (updates only): the record no longer matches this subscription — remove it from
   * the view. When the server may not show its new state, `data` carries only the `id`.
   */
  | {
    event: ChangeType
    data: T
    seq: number
    timestamp: string
    left?: boolean
    /** insert and update: the record's version, for `update(…, { ifVersion })` (absent when `data` is only the id). */
    version?: string
  }
  /** The resource was emptied (`deleteAll`): clear your view. */
  | { event: 'reset', seq: number, timestamp: string }
  /** The client could not resume (server restarted, history too short): replace your view. */
  | { event: 'snapshot', data: T[] }

export interface SubscribeOptions<T = RecordData> {
  filter?: TypedFilter<T>
  /**
   * Send only these fields (dot paths allowed), plus `id` and the filter's fields; protected
   * fields never. Updates that change none of them are not sent, unless they enter or leave
   * the filter. Another subscription of the client on the same resource may widen what arrives.
   */
  fields?: Array<FieldPath<T>>
  events?: ChangeType[]
  /**
   * Start with `{event:'snapshot', data}` holding every matching record, then the live changes:
   * a view built from it misses nothing that happened between listing and subscribing.
   * @default false
   */
  snapshot?: boolean
  /**
   * Updates travel as the paths that changed instead of whole records; the client keeps the
   * records this subscription matches (listing them first, so the handler starts with a
   * `snapshot` event as with `snapshot: true`) and hands the handler whole records as always.
   * A change to a record it does not hold (a lost frame) makes it list again. Needs insert
   * events. @default false
   */
  delta?: boolean
}

export interface ListOptions<T = RecordData> {
  filter?: TypedFilter<T>
  /** Send only these fields (dot paths allowed) and `id`; protected fields never. */
  fields?: Array<FieldPath<T>>
  partition?: string
  /** Records per page (the server caps it). */
  limit?: number
  /** Start from a cursor a previous page returned. */
  cursor?: string | null
}

/** A record and its version (`getWithVersion`, `updateWithVersion`). */
export interface Versioned<T> {
  data: T
  /** The record's version as this client sees it: pass it as `ifVersion` to update. */
  version: string
}

export interface UpdateOptions {
  /**
   * Write only if the record is still at this version (from `getWithVersion`, a page's
   * `versions`, an event's `version`, or the previous `updateWithVersion`); otherwise the
   * promise rejects with a `ConflictError` carrying the current version and record, and
   * nothing is written.
   */
  ifVersion?: string
}

/**
 * One item's outcome in `insertMany` / `deleteMany`: the record (or id), or the error its
 * single write would have answered (`code` as in RealtimeError, e.g. FORBIDDEN, VALIDATION_ERROR).
 */
export type BatchResult<T> =
  | { ok: true, data: T, version: string }
  | { ok: false, error: { code: string, message: string, details?: unknown } }

/** One id's outcome in `deleteMany`. */
export type BatchDeleteResult =
  | { ok: true, id: string }
  | { ok: false, id: string, error: { code: string, message: string, details?: unknown } }

/** One page of a `list`. */
export interface Page<T> {
  data: T[]
  /** id -> version of each record, for `update(…, { ifVersion })`. */
  versions: Record<string, string>
  /** Pass to `list({cursor})` for the next page; null on the last one. */
  cursor: string | null
}

/**
 * A channel member: a user (or, anonymous, one connection). Two tabs of one user are one member;
 * `clientId` is one of that user's connections in the channel.
 */
export interface Member<U extends object = Record<string, unknown>> {
  id: string
  clientId: string
  userInfo: U
  joinedAt: string
  updatedAt?: string
}

/** A `channel:message` from another member. */
export interface ChannelMessage {
  channel: string
  event: string
  data: unknown
  from: unknown
  timestamp: string
}

/** A `publish` from another client, pushed to subscribers of the resource named `channel`. */
export interface PublishedMessage {
  channel: string
  data: unknown
  from: unknown
  timestamp: string
}

/** A frame from the server (every frame is a JSON object with a string `type`). */
export type ServerFrame = Record<string, unknown> & { type: string }
