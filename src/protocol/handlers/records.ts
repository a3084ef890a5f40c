import { combineFilters, compileFilter, matchesFilter, type CompiledFilter } from '../../access/filter.js'
import { checkResourceRoles, listForcedFilter, requireAllowed, requireResource } from '../../access/access.js'
import { ErrorCodes, ProtocolError } from '../../errors.js'
import type { ResolvedResource } from '../../access/resource.js'
import { listPage } from '../../records/list.js'
import type { RecordData } from '../../types.js'
import { requireOpen, type RequestContext } from '../context.js'
import type { DeleteMessage, GetMessage, InsertMessage, ListMessage, UpdateMessage } from '../../wire/client-schemas.js'
import { deletedFrame, insertedFrame, pageFrame, recordFrame, updatedFrame } from '../../wire/frames.js'
import { parseClientFilter, parseFieldSelection } from './subscriptions.js'
import { forcedFilterFor, recordAsFilter } from '../../access/visibility.js'
import { forcedSubscriptionFilter } from '../../access/subscription-filter.js'
import { isNotFound } from '../../util/not-found.js'
import { protectedPathWritten } from '../../access/protected-paths.js'
import { requireKeySegment } from '../../records/key-safety.js'
import { requireSafePartitionValues } from '../../records/list.js'
import { attributeTree, checkWriteData, mergeUpdate, replacedPaths, storedView } from '../../records/write-shape.js'
import { versionOf, versionsOf } from '../../records/version.js'
import { requireSurvivesStorage, storedForm, type StoredForm } from '../../records/stored-form.js'

function notFound (): ProtocolError {
  return new ProtocolError(ErrorCodes.NOT_FOUND, 'Record not found')
}

async function readRecord (resource: ResolvedResource, id: string): Promise<RecordData> {
  try {
    return await resource.resource.get(id)
  } catch (error) {
    if (isNotFound(error)) throw notFound()
    throw error
  }
}

/**
 * Reads a record the caller may see: with a `list` guard that forces a filter, a record outside
 * it answers NOT_FOUND (not FORBIDDEN), so its existence does not leak either.
 */
async function readVisible (ctx: RequestContext, resource: ResolvedResource, id: string): Promise<RecordData> {
  const record = await readRecord(resource, id)
  const forced = await forcedFilterFor(resource, ctx.connection.user, record, ctx.log)
  if (forced !== null && !matchesFilter(record, combineFilters({}, forced))) throw notFound()
  return record
}

export function accessible (ctx: RequestContext, name: string): ResolvedResource {
  const resource = requireResource(ctx.options, name)
  checkResourceRoles(resource, ctx.connection.user)
  return resource
}

export async function handleGet (ctx: RequestContext, message: GetMessage): Promise<void> {
  const resource = accessible(ctx, message.resource)
  requireKeySegment(message.id, '/id')
  const fields = parseFieldSelection(message.fields)
  await requireAllowed(resource, 'get', ctx.log, ctx.connection.user, { id: message.id })
  const record = await readVisible(ctx, resource, message.id)
  const projected = resource.project(record)
  ctx.reply(recordFrame(resource.name, fields === undefined ? projected : fields.select(projected), versionOf(resource.project, record)))
}

export async function handleList (ctx: RequestContext, message: ListMessage): Promise<void> {
  const resource = accessible(ctx, message.resource)
  const clientFilter = parseClientFilter(message.filter, resource)
  const fields = parseFieldSelection(message.fields)
  const forced = await listForcedFilter(resource, ctx.connection.user, clientFilter, ctx.log)
  const limit = Math.min(message.limit ?? ctx.options.defaultListLimit, ctx.options.maxListLimit)
  const page = await listPage(resource.resource, combineFilters(clientFilter, forced), {
    limit,
    cursor: message.cursor ?? null,
    ...(message.partition !== undefined ? { partition: message.partition } : {})
  })
  const records = page.records.map(resource.project)
  ctx.reply(pageFrame(resource.name, fields === undefined ? records : records.map(fields.select), versionsOf(resource.project, page.records), page.cursor))
}

/**
 * Judges a write on the record s3db will store (`after`, already merged with the stored record
 * for an update), not on the object received: its partition values must be safe key segments,
 * every value the client sent (`sent`) must come back from s3db's own schema round trip as sent
 * (stored-form.ts), and the record must stay inside every filter the writer's guards force on
 * it: as sent, as s3db reads it back, and as that round trip gives it.
 */
async function requireWritable (ctx: RequestContext, resource: ResolvedResource, sent: RecordData, after: RecordData, message: string): Promise<void> {
  requireSafePartitionValues(resource.resource, after)
  const stored = await storedForm(resource.resource, after)
  if (stored !== null) {
    requireSurvivesStorage(resource.resource, sent, stored)
    // The values s3db will put in the key: trimmed by its validator, renamed fields included.
    requireSafePartitionValues(resource.resource, stored.record)
  }
  await requireInsideForced(ctx, resource, after, message, stored)
}

/**
 * Both guards: a record written (or deleted) where the writer could not subscribe would reach
 * other tenants' subscriptions, e.g. on a resource guarded only by `subscribe`.
 */
async function requireInsideForced (ctx: RequestContext, resource: ResolvedResource, record: RecordData, message: string, stored: StoredForm | null = null): Promise<void> {
  const forced = await writerForcedFilter(ctx, resource, record)
  if (forced === null) return
  const views = [record, storedView(record), ...(stored === null ? [] : [stored.record])]
  if (forced.impossible || !views.every((view) => matchesFilter(view, forced))) {
    throw new ProtocolError(ErrorCodes.FORBIDDEN, message)
  }
}

/** Every filter the guards force on the writer for this record (`list` and `subscribe`), or null. */
async function writerForcedFilter (ctx: RequestContext, resource: ResolvedResource, record: RecordData): Promise<CompiledFilter | null> {
  const forced = await forcedSubscriptionFilter(resource, ctx.connection.user, recordAsFilter(record), ctx.log)
  if (forced.filter === null && !forced.impossible) return null
  const compiled = compileFilter(forced.filter ?? {})
  return forced.impossible ? { ...compiled, impossible: true } : compiled
}

/**
 * `protected` fields are server-only: a write that names one, or (an update) replaces a value
 * that could hold one, is refused; judged on the request alone, so the answer never depends on
 * whether the hidden value is stored.
 */
function requireNoServerOnlyWrite (resource: ResolvedResource, data: RecordData, replaced: ReadonlyArray<readonly string[]>): void {
  const path = protectedPathWritten(data, replaced, resource.serverOnlyFields)
  if (path !== null) throw new ProtocolError(ErrorCodes.FORBIDDEN, `Field "${path}" is protected and cannot be written`, { field: `/data/${path.replace(/\./g, '/')}` })
}

/**
 * A caller whose view a guard restricts may not pick ids (unless the resource allows it): the
 * answer to "insert id X" would otherwise differ by whether X exists outside that view.
 */
async function requireIdChoice (ctx: RequestContext, resource: ResolvedResource, data: RecordData): Promise<void> {
  if (!Object.prototype.hasOwnProperty.call(data, 'id')) return
  requireKeySegment(data.id, '/data/id')
  if (resource.clientIds) return
  if (await writerForcedFilter(ctx, resource, data) !== null) {
    throw new ProtocolError(ErrorCodes.INVALID_REQUEST, 'Ids on this resource are assigned by the server', { field: '/data/id' })
  }
}

export async function handleInsert (ctx: RequestContext, message: InsertMessage): Promise<void> {
  const resource = accessible(ctx, message.resource)
  const record = await insertOne(ctx, resource, message.data)
  // Already projected: projecting again changes nothing.
  ctx.reply(insertedFrame(resource.name, record, versionOf(resource.project, record)))
}

/** One insert, judged and written (`insert` and every item of `insertMany`); the projected record. */
export async function insertOne (ctx: RequestContext, resource: ResolvedResource, input: RecordData): Promise<RecordData> {
  const data = checkWriteData(attributeTree(resource.resource), input, { allowId: true })
  requireNoServerOnlyWrite(resource, data, [])
  // What the client sent, before `create` may set fields (a tenant id, an owner) on the data.
  const sent = structuredClone(data)
  await requireAllowed(resource, 'create', ctx.log, ctx.connection.user, data)
  await requireIdChoice(ctx, resource, data)
  await requireWritable(ctx, resource, sent, data, 'Record would be outside what you may see')
  requireOpen(ctx)
  const record = await resource.resource.insert(data)
  return resource.project(record)
}

export async function handleUpdate (ctx: RequestContext, message: UpdateMessage): Promise<void> {
  const resource = accessible(ctx, message.resource)
  const data = checkWriteData(attributeTree(resource.resource), message.data, { allowId: false })
  requireKeySegment(message.id, '/id')
  await requireAllowed(resource, 'update', ctx.log, ctx.connection.user, { id: message.id, data })
  // Read, check and write with no other socket write to this record in between (record-locks.ts).
  const record = await ctx.services.locks.run(resource.name, message.id, async (held, exclusive) => {
    const existing = await readVisible(ctx, resource, message.id)
    if (message.ifVersion !== undefined) {
      requireExclusive(exclusive)
      await requireVersion(ctx, resource, existing, message.ifVersion)
    }
    const merged = mergeUpdate(existing, data)
    requireNoServerOnlyWrite(resource, data, replacedPaths(data))
    await requireWritable(ctx, resource, data, merged, 'Update would move the record outside what you may see')
    requireOpen(ctx)
    requireHeld(held)
    return await resource.resource.update(message.id, data)
  })
  ctx.reply(updatedFrame(resource.name, resource.project(record), versionOf(resource.project, record)))
}

/**
 * `ifVersion`: the record, as this caller sees it, must still be the one that version names.
 * Otherwise CONFLICT with the current version and record, so the client can merge and retry
 * without another read. Only visible records get here (readVisible answered NOT_FOUND else);
 * a caller the `get` guard refuses this record gets the CONFLICT without them (no read by the
 * back door: the version is a fingerprint of the record, an oracle for guesses).
 */
async function requireVersion (ctx: RequestContext, resource: ResolvedResource, existing: RecordData, ifVersion: string): Promise<void> {
  const version = versionOf(resource.project, existing)
  if (version === ifVersion) return
  const message = 'The record changed since that version; nothing was written'
  const readable = await requireAllowed(resource, 'get', ctx.log, ctx.connection.user, { id: String(existing.id) }).then(() => true, () => false)
  throw new ProtocolError(ErrorCodes.CONFLICT, message, readable ? { version, data: resource.project(existing) } : undefined)
}

/**
 * A conditional update needs every instance's writers to wait for it: with the cluster's bus out
 * of reach, another instance could write between the check and the write.
 */
function requireExclusive (exclusive: boolean): void {
  if (!exclusive) throw new ProtocolError(ErrorCodes.UNAVAILABLE, 'Conditional updates are unavailable while the cluster bus is unreachable; try again')
}

/** A cluster lock whose lease ran out while this write waited: another write may hold it now. */
function requireHeld (held: () => boolean): void {
  if (!held()) throw new ProtocolError(ErrorCodes.LIMIT_EXCEEDED, 'The record stayed busy too long; try again')
}

export async function handleDelete (ctx: RequestContext, message: DeleteMessage): Promise<void> {
  const resource = accessible(ctx, message.resource)
  await deleteOne(ctx, resource, message.id)
  ctx.reply(deletedFrame(resource.name, message.id))
}

/** One delete, judged and done (`delete` and every id of `deleteMany`). */
export async function deleteOne (ctx: RequestContext, resource: ResolvedResource, id: string): Promise<void> {
  requireKeySegment(id, '/id')
  await requireAllowed(resource, 'delete', ctx.log, ctx.connection.user, { id })
  // In turn with updates: a conditional update checked before this delete must not write after it.
  await ctx.services.locks.run(resource.name, id, async (held) => {
    const existing = await readVisible(ctx, resource, id)
    await requireInsideForced(ctx, resource, existing, 'Access denied')
    requireOpen(ctx)
    requireHeld(held)
    await resource.resource.delete(id)
  })
}
