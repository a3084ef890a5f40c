/** Shared public types. Structural s3db types keep s3db.js a peer dependency, not a hard import. */

/** A value a filter compares a field with: the plain form `{status: 'open'}`, `$eq`, `$ne`, `$in`, `$nin`. */
export type FilterValue = string | number | boolean | null

/**
 * Operators on one field, ANDed (docs/protocol.md, "Filters"; the meaning of each is stated once
 * in src/access/filter-operators.ts). Ranges take a number or a string and never match the other
 * type; dates compare as ISO 8601 strings.
 */
export interface FilterOperators {
  readonly $eq?: FilterValue
  readonly $ne?: FilterValue
  readonly $gt?: string | number
  readonly $gte?: string | number
  readonly $lt?: string | number
  readonly $lte?: string | number
  readonly $in?: readonly FilterValue[]
  readonly $nin?: readonly FilterValue[]
  readonly $exists?: boolean
  readonly $prefix?: string
}

/** What one field of a filter asks: a value (equality) or operators. */
export type FilterCondition = FilterValue | FilterOperators

/** Every key (a field or a dot path into nested fields) must satisfy its condition. */
export type Filter = Record<string, FilterCondition>

/** The authenticated identity attached to a connection; `null` for anonymous clients. */
export interface RealtimeUser {
  id: string
  role?: string
  roles?: string[]
  [claim: string]: unknown
}

export type ChangeType = 'insert' | 'update' | 'delete'

/** A record as s3db returns it. */
export type RecordData = Record<string, unknown>

/** The subset of an s3db.js Resource that s3db-realtime uses. */
export interface ResourceLike {
  name: string
  behavior?: string
  /** Declared attributes (s3db's schema); writes are checked against them. */
  attributes?: Record<string, unknown>
  config?: { partitions?: Record<string, { fields: Record<string, unknown> }>, attributes?: Record<string, unknown> }
  client: {
    listObjects (params: { prefix: string, maxKeys?: number, startAfter?: string | null }): Promise<{
      Contents?: Array<{ Key?: string }>
      IsTruncated?: boolean
    }>
  }
  on (event: string, listener: (...args: any[]) => void): unknown
  prependListener? (event: string, listener: (...args: any[]) => void): unknown
  off? (event: string, listener: (...args: any[]) => void): unknown
  removeListener (event: string, listener: (...args: any[]) => void): unknown
  addHook (event: string, fn: (data: any) => unknown): unknown
  hooks?: Record<string, unknown[]>
  applyPartitionRule? (value: unknown, rule: unknown): unknown
  get (id: string): Promise<RecordData>
  getOrNull? (id: string): Promise<RecordData | null>
  exists (id: string): Promise<boolean>
  insert (data: RecordData): Promise<RecordData>
  update (id: string, data: RecordData): Promise<RecordData>
  delete (id: string): Promise<unknown>
}

/** The subset of an s3db.js Database that s3db-realtime uses. */
export interface DatabaseLike {
  resources: Record<string, ResourceLike>
  isConnected? (): boolean
  connect? (): Promise<void>
  disconnect? (): Promise<void>
}
