import { createHash } from 'node:crypto'
import type { Projector } from '../access/projection.js'
import type { RecordData, ResourceLike } from '../types.js'
import { isPlainObject } from '../util/paths.js'
import { attributeTree, storedView, type AttributeTree } from './write-shape.js'

/*
 * A record's `version` (docs/protocol.md, "Conditional updates"): a fingerprint of the record
 * as the caller sees it, i.e. after the projection removed protected fields and s3db internals,
 * before any `fields` selection. Not s3db's ETag: s3db keeps most records entirely in object
 * metadata, so the ETag (the MD5 of the empty body) is the same for every version of a record
 * and cannot tell two states apart.
 *
 * Why the projected record and not the stored one: a fingerprint over protected fields would be
 * an oracle (hash candidate salaries until one gives the version you were sent). The price is
 * that a change to a protected field alone does not change the version; the caller could not
 * see that change anyway, and a write that matches the version writes over exactly what the
 * caller read. Two states with identical visible content share a version (ABA): accepted for
 * the same reason; with s3db `timestamps: true`, `updatedAt` changes on every write anyway.
 *
 * s3db hands back one state in several shapes: `update` answers (and emits) the values as
 * written ('null', untrimmed strings) while `get`/`list` read them back (null, trimmed), and a
 * read adds undeclared keys (`metadata_updatedat`). So the fingerprint covers the declared
 * attributes and `id` only, as s3db reads them back; every path then agrees on one version.
 */

/** Characters of a version: 22 base64url characters, 132 bits of SHA-256. */
export const VERSION_LENGTH = 22
/** Documented bound of `ifVersion` on `update` (longer is INVALID_REQUEST). */
export const MAX_IF_VERSION_LENGTH = 64

/**
 * JSON with every object's keys sorted, so equal content gives equal text whatever order s3db
 * (or the bus, or a JSON round trip) left the keys in. Follows JSON.stringify otherwise:
 * `toJSON` (dates), undefined and functions left out of objects and null in arrays.
 */
export function canonicalJson (value: unknown): string {
  if (typeof value === 'bigint') return value.toString()
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  const withToJson = value as { toJSON?: () => unknown }
  if (typeof withToJson.toJSON === 'function') return canonicalJson(withToJson.toJSON())
  if (Array.isArray(value)) return `[${value.map((element) => omitted(element) ? 'null' : canonicalJson(element)).join(',')}]`
  const record = value as RecordData
  const parts: string[] = []
  for (const key of Object.keys(record).sort()) {
    if (!omitted(record[key])) parts.push(`${JSON.stringify(key)}:${canonicalJson(record[key])}`)
  }
  return `{${parts.join(',')}}`
}

function omitted (value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol'
}

/** The fingerprint of content already reduced to what the version covers. */
export function recordVersion (content: RecordData): string {
  return createHash('sha256').update(canonicalJson(content)).digest('base64url').slice(0, VERSION_LENGTH)
}

/** The declared attributes of `record` ('open' ones whole), and `id` at the top. */
function declaredView (record: RecordData, tree: AttributeTree, top: boolean): RecordData {
  const out: RecordData = {}
  for (const key of Object.keys(record)) {
    const rule = Object.prototype.hasOwnProperty.call(tree, key) ? tree[key] : undefined
    if (rule === undefined && !(top && key === 'id')) continue
    const value = record[key]
    out[key] = rule !== undefined && rule !== 'open' && isPlainObject(value) ? declaredView(value, rule, false) : value
  }
  return out
}

/** A record's version, for a caller who sees it through `project`. */
export type Versioner = (record: RecordData) => string

/** One versioner per resource, found by the resource's projector (each resource has its own). */
const versioners = new WeakMap<Projector, Versioner>()

/**
 * Makes the versioner of a resource (options/resources.ts, once per resource): project for the
 * caller, keep id and the declared attributes, read back as s3db would (twice: a JSON string
 * parsed on the first pass has its own leaves read back on the second), fingerprint.
 */
export function defineVersioner (resource: ResourceLike, project: Projector): Versioner {
  const versioner: Versioner = (record) => {
    const tree = attributeTree(resource)
    // No declared attributes (a resource s3db does not describe): everything visible counts.
    const content = Object.keys(tree).length === 0 ? project(record) : declaredView(project(record), tree, true)
    return recordVersion(storedView(storedView(content)))
  }
  versioners.set(project, versioner)
  return versioner
}

/** The version of a stored (unprojected) record for callers who see it through `project`. */
export function versionOf (project: Projector, record: RecordData): string {
  const versioner = versioners.get(project)
  return versioner === undefined ? recordVersion(storedView(storedView(project(record)))) : versioner(record)
}

/** `{[id]: version}` of stored records (list pages, snapshots). */
export function versionsOf (project: Projector, records: readonly RecordData[]): Record<string, string> {
  // No prototype: an id such as `__proto__` is an ordinary key here.
  const versions = Object.create(null) as Record<string, string>
  for (const record of records) {
    if (typeof record.id === 'string') versions[record.id] = versionOf(project, record)
  }
  return versions
}
