import { ErrorCodes, ProtocolError } from '../errors.js'
import type { RecordData, ResourceLike } from '../types.js'
import { isPlainObject } from '../util/paths.js'
import { storedKeyName } from '../util/stored-key-name.js'
import { canonicalJson } from './version.js'

/*
 * What s3db will actually keep of a record, found by running it through s3db's own schema: the
 * validator (trims strings, converts numbers), `schema.mapper` (the encodings: base62 numbers,
 * joined string arrays, JSON objects), the object-metadata layer (every value a string; 'null'
 * and 'undefined' decoded on the way back) and `schema.unmapper`. None of these writes anything.
 *
 * Modelling the read-back by hand missed encodings that lose data: s3db's number encoding turns
 * -1e-7 into 0 and 1e-7 into "", and an `array|items:string` of ['null'] reads back as null. A
 * write is judged on this form (forced filters), and a value that does not survive it is refused.
 */

interface SchemaPort {
  mapper: (item: RecordData) => Promise<RecordData>
  unmapper: (mapped: RecordData) => Promise<RecordData>
  getAttributeDefinition?: (path: string) => unknown
}

interface ValidationPort {
  validate?: (data: RecordData, options: { includeId: boolean }) => Promise<{ isValid?: boolean, data?: unknown, errors?: unknown }>
}

/** A record as s3db will keep it, and the fields its validator refused (s3db will judge those). */
export interface StoredForm {
  readonly record: RecordData
  readonly refused: ReadonlySet<string>
}

function schemaOf (resource: ResourceLike): SchemaPort | null {
  const schema = (resource as { schema?: Partial<SchemaPort> }).schema
  if (schema === undefined || schema === null) return null
  if (typeof schema.mapper !== 'function' || typeof schema.unmapper !== 'function') return null
  return schema as SchemaPort
}

/** A metadata value as an S3 object header carries it: a string, with 'null'/'undefined' special. */
function throughMetadata (value: unknown): unknown {
  if (value === null || value === undefined) return value
  const text = String(value)
  if (text === 'null') return null
  if (text === 'undefined') return undefined
  return text
}

function refusedFields (errors: unknown): Set<string> {
  const fields = new Set<string>()
  if (!Array.isArray(errors)) return fields
  for (const error of errors as unknown[]) {
    const field = isPlainObject(error) ? error.field : undefined
    if (typeof field === 'string') fields.add(field)
  }
  return fields
}

async function validated (resource: ResourceLike, attributes: RecordData): Promise<{ data: RecordData, refused: Set<string> }> {
  const validate = (resource as ValidationPort).validate
  if (typeof validate !== 'function') return { data: attributes, refused: new Set() }
  try {
    const result = await validate.call(resource, attributes, { includeId: false })
    if (result.isValid === true && isPlainObject(result.data)) return { data: result.data, refused: new Set() }
    // Invalid (a hook may still complete it): its raw form is the best model, and the fields the
    // validator named are left to s3db's own verdict.
    return { data: attributes, refused: refusedFields(result.errors) }
  } catch {
    return { data: attributes, refused: new Set() }
  }
}

/**
 * The record as s3db will store and read it back (`id` kept as given), or null when the resource
 * has no s3db schema to run it through (then only the hand model in write-shape.ts applies).
 */
export async function storedForm (resource: ResourceLike, record: RecordData): Promise<StoredForm | null> {
  const schema = schemaOf(resource)
  if (schema === null) return null
  const attributes: RecordData = {}
  for (const [key, value] of Object.entries(record)) {
    // id is the object key, not metadata; `_*`/`$*` are s3db's read-side extras on a stored record.
    if (key !== 'id' && !key.startsWith('_') && !key.startsWith('$')) attributes[key] = value
  }
  const { data, refused } = await validated(resource, attributes)
  let back: RecordData
  try {
    const mapped = await schema.mapper(data)
    const stored: RecordData = {}
    for (const [key, value] of Object.entries(mapped)) {
      const header = throughMetadata(value)
      // As s3db's client writes it: renamed, and a later key of the same name wins.
      if (header !== undefined) stored[storedKeyName(key)] = header
    }
    back = await schema.unmapper(stored)
  } catch {
    return null // s3db's write runs the same mapper and answers for itself
  }
  return { record: Object.prototype.hasOwnProperty.call(record, 'id') ? { ...back, id: record.id } : back, refused }
}

/** The type word of an attribute definition ('number' of 'number|optional', of `{type:'number'}`). */
function attributeType (definition: unknown): string | null {
  if (typeof definition === 'string') return definition.split('|')[0]?.trim() ?? null
  if (isPlainObject(definition) && typeof definition.type === 'string') return definition.type
  return null
}

/** Types whose declaration rounds values on purpose (precision, embeddings): equal kinds suffice. */
function roundsByDeclaration (definition: unknown): boolean {
  const text = typeof definition === 'string' ? definition : isPlainObject(definition) ? JSON.stringify(definition) : ''
  if (/embedding|decimal|money|geo|ip/.test(text)) return true
  const length = /length["':]+(\d+)/.exec(text)
  return length !== null && Number(length[1]) >= 256
}

function kindOf (value: unknown): string {
  if (value === null || value === undefined) return 'nothing'
  if (Array.isArray(value)) return 'array'
  if (isPlainObject(value)) return 'object'
  return typeof value
}

function describe (value: unknown): string {
  if (value === undefined) return 'missing'
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 40 ? `${text.slice(0, 40)}…` : text
}

/**
 * Strings trimmed all the way down: s3db's validator trims string elements too (on update; its
 * insert keeps the untrimmed array), and a trim is the normalisation it declares, not a change.
 */
function trimmed (value: unknown): unknown {
  if (typeof value === 'string') return value.trim()
  if (Array.isArray(value)) return value.map(trimmed)
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, trimmed(inner)]))
  return value
}

/** Whether one sent leaf comes back as itself (up to the normalisations s3db declares). */
function leafSurvives (sent: unknown, back: unknown, definition: unknown): boolean {
  const type = attributeType(definition)
  const exact = !roundsByDeclaration(definition)
  if (sent === null) return back === null || back === undefined
  if (type === 'number' && typeof back !== 'number') return false
  if (Array.isArray(sent)) {
    if (!Array.isArray(back) || back.length !== sent.length) return false
    return exact
      ? canonicalJson(trimmed(back)) === canonicalJson(trimmed(sent))
      : sent.every((element, i) => kindOf(element) === kindOf(back[i]))
  }
  switch (typeof sent) {
    case 'number': return typeof back === 'number' && (!exact || back === sent)
    case 'boolean': return back === sent
    // Trimmed, hashed or encrypted strings stay strings; the validator converts for number/boolean.
    case 'string': return typeof back === 'string' || (typeof back === type && (type === 'number' || type === 'boolean'))
    default: return canonicalJson(back) === canonicalJson(sent)
  }
}

function checkSurvives (schema: SchemaPort, sent: RecordData, back: unknown, path: readonly string[], refused: ReadonlySet<string>): void {
  for (const [key, value] of Object.entries(sent)) {
    const at = [...path, key]
    if (refused.has(at.join('.'))) continue
    const backValue = isPlainObject(back) && Object.prototype.hasOwnProperty.call(back, key) ? back[key] : undefined
    if (isPlainObject(value)) {
      if (!isPlainObject(backValue)) throw notSurviving(at, backValue)
      checkSurvives(schema, value, backValue, at, refused)
      continue
    }
    const definition = schema.getAttributeDefinition?.(at.join('.'))
    if (!leafSurvives(value, backValue, definition)) throw notSurviving(at, backValue)
  }
}

function notSurviving (path: readonly string[], back: unknown): ProtocolError {
  const field = `/data/${path.join('/')}`
  return new ProtocolError(ErrorCodes.INVALID_REQUEST,
    `${field}: s3db cannot store this value as sent (it would read back as ${describe(back)})`, { field })
}

/**
 * Refuses (INVALID_REQUEST naming the field) any value of `sent` (what the client wrote) that
 * `stored` (the storedForm of the whole record) does not hold as sent (fields s3db's validator
 * refuses are left to s3db, which answers VALIDATION_ERROR): a number that comes back
 * as 0 or "", a string that comes back as null, JSON or missing, an array element that changes.
 * Strings may come back trimmed (s3db's validator trims them) and declared precision may round.
 */
export function requireSurvivesStorage (resource: ResourceLike, sent: RecordData, stored: StoredForm): void {
  const schema = schemaOf(resource)
  if (schema === null) return
  const { id: _id, ...fields } = sent
  checkSurvives(schema, fields, stored.record, [], stored.refused)
}
