import { combineFilters, matchesFilter } from '../../access/filter.js'
import { checkResourceRoles, listForcedFilter, requireAllowed, requireResource } from '../../access/access.js'
import { ErrorCodes, ProtocolError } from '../../errors.js'
import type { ResolvedResource } from '../../options.js'
import { listPage } from '../../records/list.js'
import type { RecordData } from '../../types.js'
import type { RequestContext } from '../context.js'
import type { DeleteMessage, GetMessage, InsertMessage, ListMessage, UpdateMessage } from '../schemas.js'
import { parseClientFilter } from './subscriptions.js'
import { forcedFilterFor } from '../../access/visibility.js'
import { isNotFound } from '../../util/not-found.js'

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

function accessible (ctx: RequestContext, name: string): ResolvedResource {
  const resource = requireResource(ctx.options, name)
  checkResourceRoles(resource, ctx.connection.user)
  return resource
}

export async function handleGet (ctx: RequestContext, message: GetMessage): Promise<void> {
  const resource = accessible(ctx, message.resource)
  await requireAllowed(resource, 'get', ctx.log, ctx.connection.user, { id: message.id })
  const record = await readVisible(ctx, resource, message.id)
  ctx.reply({ type: 'data', resource: resource.name, data: resource.project(record) })
}

export async function handleList (ctx: RequestContext, message: ListMessage): Promise<void> {
  const resource = accessible(ctx, message.resource)
  const clientFilter = parseClientFilter(message.filter, resource)
  const forced = await listForcedFilter(resource, ctx.connection.user, clientFilter, ctx.log)
  const limit = Math.min(message.limit ?? ctx.options.defaultListLimit, ctx.options.maxListLimit)
  const page = await listPage(resource.resource, combineFilters(clientFilter, forced), {
    limit,
    cursor: message.cursor ?? null,
    ...(message.partition !== undefined ? { partition: message.partition } : {})
  })
  ctx.reply({ type: 'data', resource: resource.name, data: page.records.map(resource.project), cursor: page.cursor })
}

export async function handleInsert (ctx: RequestContext, message: InsertMessage): Promise<void> {
  const resource = accessible(ctx, message.resource)
  const data: RecordData = { ...message.data }
  // `create` may set fields (a tenant id, an owner) on the data before it is written.
  await requireAllowed(resource, 'create', ctx.log, ctx.connection.user, data)
  const forced = await forcedFilterFor(resource, ctx.connection.user, data, ctx.log)
  if (forced !== null && !matchesFilter(data, combineFilters({}, forced))) {
    throw new ProtocolError(ErrorCodes.FORBIDDEN, 'Record would be outside what you may see')
  }
  const record = await resource.resource.insert(data)
  ctx.reply({ type: 'inserted', resource: resource.name, data: resource.project(record) })
}

export async function handleUpdate (ctx: RequestContext, message: UpdateMessage): Promise<void> {
  const resource = accessible(ctx, message.resource)
  const data: RecordData = { ...message.data }
  delete data.id // the id is the message's `id`, never a field to rewrite
  await requireAllowed(resource, 'update', ctx.log, ctx.connection.user, { id: message.id, data })
  const existing = await readVisible(ctx, resource, message.id)
  const forced = await forcedFilterFor(resource, ctx.connection.user, { ...existing, ...data }, ctx.log)
  if (forced !== null && !matchesFilter({ ...existing, ...data }, combineFilters({}, forced))) {
    throw new ProtocolError(ErrorCodes.FORBIDDEN, 'Update would move the record outside what you may see')
  }
  const record = await resource.resource.update(message.id, data)
  ctx.reply({ type: 'updated', resource: resource.name, data: resource.project(record) })
}

export async function handleDelete (ctx: RequestContext, message: DeleteMessage): Promise<void> {
  const resource = accessible(ctx, message.resource)
  await requireAllowed(resource, 'delete', ctx.log, ctx.connection.user, { id: message.id })
  await readVisible(ctx, resource, message.id)
  await resource.resource.delete(message.id)
  ctx.reply({ type: 'deleted', resource: resource.name, id: message.id })
}
