import type { ChangeType, Filter, RealtimeUser, RecordData, ResourceLike } from '../types.js'
import type { Projector } from './projection.js'
import type { ProtectedNames } from './protected-paths.js'

type MaybePromise<T> = T | Promise<T>

/**
 * What a guard may answer: allow, deny, or (subscribe and list) allow with a forced filter.
 * Object values are checked at run time (anything but flat scalars denies), so the seed's
 * `{ userId: user?.id }` type-checks and denies an anonymous caller instead of widening.
 */
export type GuardResult = boolean | Filter | Record<string, unknown>

/** Row-level guards, as the seed documents them. `user` is null for anonymous clients. */
export interface ResourceGuards {
  subscribe?: (user: RealtimeUser | null, filter: Filter) => MaybePromise<GuardResult>
  list?: (user: RealtimeUser | null, ctx: { filter: Filter, partition?: string }) => MaybePromise<GuardResult>
  get?: (user: RealtimeUser | null, ctx: { id: string }) => MaybePromise<boolean>
  /** May set fields on `data` (for example a tenant id) before it is inserted. */
  create?: (user: RealtimeUser | null, data: RecordData) => MaybePromise<boolean>
  update?: (user: RealtimeUser | null, ctx: { id: string, data: RecordData }) => MaybePromise<boolean>
  delete?: (user: RealtimeUser | null, ctx: { id: string }) => MaybePromise<boolean>
}

/** Who may `publish` to the channel named after a resource: roles, or a function. */
export type PublishAuth = string[] | ((user: RealtimeUser | null, message: unknown) => MaybePromise<boolean>)

/** One exposed resource, as the options resolved it (src/options/resources.ts builds it). */
export interface ResolvedResource {
  readonly name: string
  readonly resource: ResourceLike
  readonly roles: readonly string[] | null
  /** Everything projected away: `protected` plus `writeOnly`. */
  readonly protectedFields: readonly string[]
  /** `protectedFields` with what finds them under the names s3db flattens them to (filters, inspector). */
  readonly protectedNames: ProtectedNames
  /** Protected fields clients may not write: `protected` minus `writeOnly`, plus `secret` attributes. */
  readonly serverOnlyFields: readonly string[]
  /** s3db `secret*` and `password` attributes (also protected and server-only): no filter may reach them, a guard's neither. */
  readonly encryptedFields: readonly string[]
  readonly clientIds: boolean
  readonly events: ReadonlySet<ChangeType>
  readonly guard: ResourceGuards
  readonly publishAuth: PublishAuth | null
  readonly project: Projector
}

/** The exposed resources by name (what `requireResource` looks names up in). */
export interface ResourceTable {
  readonly resources: ReadonlyMap<string, ResolvedResource>
}
