import { equalityValues, matchesFilter, type CompiledFilter } from '../access/filter.js'
import type { Operand } from '../access/filter-operators.js'
import { ErrorCodes, ProtocolError } from '../errors.js'
import type { RecordData, ResourceLike } from '../types.js'
import { isNotFound } from '../util/not-found.js'
import { isPlainObject, readPath, splitPath } from '../util/paths.js'
import { storedKeyName } from '../util/stored-key-name.js'
import { keySegmentProblem, requirePartitionValue } from './key-safety.js'

export interface ListPage {
  records: RecordData[]
  /** The last id handed out; null on the last page. */
  cursor: string | null
}

interface PartitionChoice {
  name: string
  prefix: string
}

const BATCH = 200

/**
 * The cursor is the id of the last record handed out (as in the seed: `cursor: 'msg2'`). Keys
 * under one prefix end in `id=<id>` and list in key order, so "start after prefix + id=cursor"
 * resumes exactly where the previous page stopped.
 */
function cursorKey (prefix: string, cursor: string): string {
  if (keySegmentProblem(cursor) !== null) throw new ProtocolError(ErrorCodes.INVALID_REQUEST, 'cursor is not valid', { field: '/cursor' })
  return `${prefix}id=${cursor}`
}

function partitionsOf (resource: ResourceLike): Record<string, { fields: Record<string, unknown> }> {
  return resource.config?.partitions ?? {}
}

/**
 * Partition values become path segments of the record's storage key: a write whose value for
 * any partition field is not a safe segment is refused before s3db builds a key from it.
 */
export function requireSafePartitionValues (resource: ResourceLike, record: RecordData): void {
  for (const definition of Object.values(partitionsOf(resource))) {
    for (const field of Object.keys(definition.fields)) {
      const pointer = `/data/${field.replace(/\./g, '/')}`
      requirePartitionValue(readPath(record, splitPath(field)), pointer)
      // A nested field comes back from s3db under its stored name (`org.id` as `org_id`).
      const stored = storedKeyName(field)
      if (stored !== field) requirePartitionValue(record[stored], pointer)
    }
  }
}

function idFromKey (key: string): string | null {
  const part = key.split('/').find((segment) => segment.startsWith('id='))
  return part === undefined ? null : part.slice(3)
}

/** `equal`: the filter's equality values by path; only they can pick a partition. */
function partitionPrefix (resource: ResourceLike, name: string, fields: Record<string, unknown>, equal: ReadonlyMap<string, Operand>): string | null {
  const segments: string[] = []
  for (const [field, rule] of Object.entries(fields).sort(([a], [b]) => a.localeCompare(b))) {
    const value = equal.get(field)
    if (value === undefined || value === null || Array.isArray(value)) return null
    // The value becomes a key prefix to list under: `../` would walk another resource's objects.
    requirePartitionValue(value, `/filter/${field}`)
    const transformed = resource.applyPartitionRule === undefined ? value : resource.applyPartitionRule(value, rule)
    if (transformed === undefined || transformed === null) return null
    requirePartitionValue(transformed, `/filter/${field}`)
    segments.push(`${field}=${String(transformed)}`)
  }
  return segments.length === 0 ? null : `resource=${resource.name}/partition=${name}/${segments.join('/')}/`
}

/**
 * Which key prefix to scan: the named partition, else the partition that covers the most
 * filter fields, else the main data prefix. Only equality conditions (`{field: value}`, `$eq`,
 * a one-value `$in`) pick a partition; other operators are checked on the records read. Records
 * are always re-checked against the whole filter, so a partition is only ever an optimization.
 */
export function choosePartition (resource: ResourceLike, filter: CompiledFilter, requested?: string): PartitionChoice | null {
  const equal = equalityValues(filter)
  const partitions = partitionsOf(resource)
  if (requested !== undefined) {
    // Own names only: `__proto__` or `toString` are not partitions.
    const definition = Object.prototype.hasOwnProperty.call(partitions, requested) ? partitions[requested] : undefined
    if (definition === undefined || !isPlainObject(definition) || !isPlainObject(definition.fields)) throw new ProtocolError(ErrorCodes.INVALID_REQUEST, `Unknown partition "${requested}"`, { field: '/partition' })
    // Without a value for every partition field there is no single prefix to list: scan the
    // resource instead (same records, same order, just slower).
    const prefix = partitionPrefix(resource, requested, definition.fields, equal)
    return prefix === null ? null : { name: requested, prefix }
  }
  let best: PartitionChoice | null = null
  let bestFields = 0
  for (const [name, definition] of Object.entries(partitions)) {
    const count = Object.keys(definition.fields).length
    if (count <= bestFields) continue
    const prefix = partitionPrefix(resource, name, definition.fields, equal)
    if (prefix !== null) {
      best = { name, prefix }
      bestFields = count
    }
  }
  return best
}

async function readMany (resource: ResourceLike, ids: string[]): Promise<Array<RecordData | null>> {
  return await Promise.all(ids.map(async (id) => {
    try {
      return await resource.get(id)
    } catch (error) {
      if (isNotFound(error)) return null // deleted between list and read
      throw error
    }
  }))
}

/**
 * One page of records matching `filter`, in key order. The cursor is the last id handed out,
 * so pages never repeat or skip a record that existed throughout the listing.
 */
export async function listPage (
  resource: ResourceLike,
  filter: CompiledFilter,
  options: { limit: number, cursor: string | null, partition?: string }
): Promise<ListPage> {
  if (filter.impossible) return { records: [], cursor: null }
  const partition = choosePartition(resource, filter, options.partition)
  const prefix = partition?.prefix ?? `resource=${resource.name}/data/`
  let startAfter = options.cursor === null ? null : cursorKey(prefix, options.cursor)
  const records: RecordData[] = []
  for (;;) {
    // Without conditions every key is a record for the page: read no more than the page needs.
    const maxKeys = filter.conditions.length === 0 ? Math.min(BATCH, options.limit - records.length) : BATCH
    const response = await resource.client.listObjects({ prefix, maxKeys, startAfter })
    const keys = (response.Contents ?? []).map((c) => c.Key).filter((k): k is string => typeof k === 'string')
    const ids = keys.map(idFromKey)
    const fetched = await readMany(resource, ids.filter((id): id is string => id !== null))
    let fetchedIndex = 0
    for (let i = 0; i < keys.length; i++) {
      if (ids[i] === null) continue
      const record = fetched[fetchedIndex++]
      if (record === null || record === undefined || !matchesFilter(record, filter)) continue
      records.push(record)
      if (records.length === options.limit) {
        const exhausted = response.IsTruncated !== true && i === keys.length - 1
        return { records, cursor: exhausted ? null : ids[i] as string }
      }
    }
    if (response.IsTruncated !== true || keys.length === 0) return { records, cursor: null }
    startAfter = keys[keys.length - 1] as string
  }
}
