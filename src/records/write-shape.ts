import { ErrorCodes, ProtocolError } from '../errors.js'
import type { RecordData, ResourceLike } from '../types.js'
import { isPlainObject } from '../util/paths.js'
import { hasLoneSurrogate } from '../util/unicode.js'

/**
 * What a client may write, derived from the resource's declared attributes: a declared nested
 * object lists its own keys; anything else ('open') may hold any safe keys below it.
 */
export interface AttributeTree { readonly [key: string]: AttributeTree | 'open' }

// fastest-validator's long form (`{ type: 'string', optional: true }`) is one attribute, not a
// nested object whose field happens to be called "type".
const LONG_FORM_KEYS = new Set(['type', 'optional', 'props', 'items', 'default', 'min', 'max', 'nullable', 'empty', 'pattern', 'enum', 'length', 'minLength', 'maxLength'])

function isLongForm (def: Record<string, unknown>): boolean {
  return typeof def.type === 'string' && !def.type.includes('|') && Object.keys(def).every((k) => LONG_FORM_KEYS.has(k))
}

function treeOf (attributes: Record<string, unknown>): AttributeTree {
  const tree: Record<string, AttributeTree | 'open'> = Object.create(null) as Record<string, AttributeTree | 'open'>
  for (const [key, def] of Object.entries(attributes)) {
    if (key.includes('$$')) continue // s3db's own markers ($$type), not fields
    if (isPlainObject(def) && def.__plugin__ !== undefined) continue // owned by an s3db plugin
    if (!isPlainObject(def)) { tree[key] = 'open'; continue }
    if (isLongForm(def)) {
      tree[key] = def.type === 'object' && isPlainObject(def.props) ? treeOf(def.props) : 'open'
      continue
    }
    tree[key] = treeOf(def)
  }
  return tree
}

const trees = new WeakMap<object, AttributeTree>()

/**
 * The resource's declared attributes as a tree (s3db adds createdAt/updatedAt when timestamped),
 * cached per attributes object: s3db replaces that object when the schema changes.
 */
export function attributeTree (resource: ResourceLike): AttributeTree {
  const attributes = resource.attributes ?? resource.config?.attributes
  if (!isPlainObject(attributes)) return Object.create(null) as AttributeTree
  let tree = trees.get(attributes)
  if (tree === undefined) trees.set(attributes, tree = treeOf(attributes))
  return tree
}

function invalid (field: string, message: string): ProtocolError {
  return new ProtocolError(ErrorCodes.INVALID_REQUEST, message, { field })
}

/**
 * Keys s3db would read as something else: a dotted key is applied as a path (and wins over the
 * nested value when flattened), `$`/`_` keys are s3db internals, and the prototype names are
 * never data. Short storage keys (`a`, `0`, …) are caught by the declared-attribute check.
 */
function keyProblem (key: string): string | null {
  if (key === '') return 'an empty key is not allowed'
  if (hasLoneSurrogate(key)) return 'keys must be well-formed Unicode'
  if (key.includes('.')) return 'dotted keys are not allowed; send nested objects'
  if (key.startsWith('$')) return 'keys starting with "$" are not allowed'
  if (key === '__proto__' || key === 'constructor' || key === 'prototype') return 'this key is not allowed'
  return null
}

function copyChecked (value: RecordData, tree: AttributeTree | 'open', pointer: string): RecordData {
  const out: RecordData = {}
  for (const [key, inner] of Object.entries(value)) {
    const field = `${pointer}/${key}`
    const problem = keyProblem(key)
    if (problem !== null) throw invalid(field, `${field}: ${problem}`)
    let child: AttributeTree | 'open' = 'open'
    if (tree !== 'open') {
      const declared = Object.prototype.hasOwnProperty.call(tree, key) ? tree[key] : undefined
      if (declared === undefined) throw invalid(field, `${field} is not an attribute of this resource`)
      child = declared
      // A declared nested object must arrive as one: s3db would store a string under the object's
      // own key and read it back parsed, past the checks made on the string.
      if (child !== 'open' && inner !== null && !isPlainObject(inner)) throw invalid(field, `${field} must be an object`)
    }
    if (!isPlainObject(inner) && containsLoneSurrogate(inner)) throw invalid(field, `${field} must be well-formed Unicode (no lone surrogates)`)
    out[key] = isPlainObject(inner) ? copyChecked(inner, child, field) : inner
  }
  return out
}

/** A string that UTF-8 cannot carry, anywhere inside `value` (keys of nested objects too). */
function containsLoneSurrogate (value: unknown): boolean {
  if (typeof value === 'string') return hasLoneSurrogate(value)
  if (Array.isArray(value)) return value.some(containsLoneSurrogate)
  if (isPlainObject(value)) return Object.keys(value).some(hasLoneSurrogate) || Object.values(value).some(containsLoneSurrogate)
  return false
}

/**
 * The client's `data` reduced to what the resource declares, as a fresh copy: any key that is
 * not a declared attribute (s3db's short keys, dotted paths, `$`/`_` internals, undeclared
 * fields) is refused with INVALID_REQUEST naming it. `id` is allowed where the caller says so.
 */
export function checkWriteData (tree: AttributeTree, data: RecordData, options: { allowId: boolean }): RecordData {
  const rest: RecordData = { ...data }
  const hasId = Object.prototype.hasOwnProperty.call(rest, 'id')
  const id = rest.id
  delete rest.id
  if (hasId && !options.allowId) throw invalid('/data/id', '/data/id cannot be written; the message names the record')
  const out = copyChecked(rest, tree, '/data')
  return hasId ? { id, ...out } : out
}

/**
 * The record s3db's `update(id, data)` will store: it merges each top-level object one level
 * deep into the stored one and replaces everything else (dotted keys never get this far).
 */
export function mergeUpdate (existing: RecordData, data: RecordData): RecordData {
  const merged: RecordData = { ...existing }
  for (const [key, value] of Object.entries(data)) {
    merged[key] = isPlainObject(value)
      ? { ...(isPlainObject(merged[key]) ? merged[key] : {}), ...value }
      : Array.isArray(value) ? [...value as unknown[]] : value
  }
  return merged
}

/**
 * The paths an `update(id, data)` sets wholesale, as mergeUpdate merges: each key of a top-level
 * object (the object itself is merged), every other top-level key. Whatever was stored at such a
 * path is gone after the write, whatever it held.
 */
export function replacedPaths (data: RecordData): string[][] {
  const paths: string[][] = []
  for (const [key, value] of Object.entries(data)) {
    if (isPlainObject(value)) {
      for (const inner of Object.keys(value)) paths.push([key, inner])
    } else {
      paths.push([key])
    }
  }
  return paths
}

function storedLeaf (value: unknown): unknown {
  if (Array.isArray(value)) return JSON.parse(JSON.stringify(value)) as unknown
  if (typeof value !== 'string') return value
  // Object metadata travels as HTTP headers (trimmed), and s3db decodes 'null'/'undefined'.
  const text = value.trim()
  if (text === 'null') return null
  if (text === 'undefined') return undefined
  if (text.startsWith('{') || text.startsWith('[')) {
    try {
      return JSON.parse(text) as unknown
    } catch {
      return text // not JSON: s3db keeps the string
    }
  }
  return text
}

/**
 * The record as s3db reads it back: every leaf is written as a string (trimmed on the way,
 * 'null' and 'undefined' decoded), and a string that starts like JSON is parsed on the way back.
 * A write is judged on this view as well as on the data, so a value that changes meaning in
 * storage cannot slip past a forced filter.
 */
export function storedView (record: RecordData): RecordData {
  const out: RecordData = {}
  for (const [key, value] of Object.entries(record)) {
    out[key] = isPlainObject(value) ? storedView(value) : storedLeaf(value)
  }
  return out
}
