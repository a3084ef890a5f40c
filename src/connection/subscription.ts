import type { CompiledFilter } from '../access/filter.js'
import type { ChangeType, Filter } from '../types.js'
import type { Connection } from './connection.js'

/** One `subscribe` of one connection; the hub indexes it by its filter (src/hub/subscription-index.ts). */
export interface Subscription {
  readonly id: string
  readonly connection: Connection
  readonly resource: string
  /** The filter as the client sent it (used to find it again on `unsubscribe`). */
  readonly clientFilter: Filter
  /** Client filter AND the guard's forced filter. */
  filter: CompiledFilter
  readonly events: ReadonlySet<ChangeType>
}
