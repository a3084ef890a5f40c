import { ProtocolError } from '../../errors.js'
import type { RequestContext } from '../context.js'
import { toProtocolError } from '../errors.js'
import type { DeleteManyMessage, InsertManyMessage } from '../../wire/client-schemas.js'
import { deletedManyFrame, insertedManyFrame, type DeletedItem, type InsertedItem } from '../../wire/frames.js'
import { versionOf } from '../../records/version.js'
import { accessible, deleteOne, insertOne } from './records.js'

/*
 * `insertMany` / `deleteMany`: each item goes through the single write's path (insertOne,
 * deleteOne: roles, guards, forced filters, write shape, key safety), one after the other, in
 * order. An item that fails gets the error its single write would have answered; the others
 * still happen. Not atomic: a batch is a shorter way to send many writes, not a transaction.
 * The resource itself (exists, caller's roles) is checked once: failing that fails the message.
 */

/** The error an item's single write would have answered; internal ones are logged, not sent. */
function itemError (ctx: RequestContext, error: unknown): { code: ProtocolError['code'], message: string, details?: unknown } {
  const { error: protocolError, internal } = toProtocolError(error)
  if (internal) ctx.log.error({ err: error }, 'realtime: batch item failed')
  return { code: protocolError.code, message: protocolError.message, ...(protocolError.details === undefined ? {} : { details: protocolError.details }) }
}

/**
 * Each item after the first counts toward the socket's message rate limit like a frame of its
 * own (the frame itself was counted on arrival): over it, the item answers RATE_LIMIT_EXCEEDED
 * and is not written.
 */
function chargeItem (ctx: RequestContext, index: number): void {
  if (index > 0) ctx.services.messageRate?.(ctx.connection)
}

/** The socket closed mid-batch: stop, nobody is left to answer. */
function closed (ctx: RequestContext): boolean {
  return ctx.connection.closed
}

export async function handleInsertMany (ctx: RequestContext, message: InsertManyMessage): Promise<void> {
  const resource = accessible(ctx, message.resource)
  const results: InsertedItem[] = []
  for (const [index, data] of message.data.entries()) {
    if (closed(ctx)) return
    try {
      chargeItem(ctx, index)
      const record = await insertOne(ctx, resource, data)
      results.push({ ok: true, data: record, version: versionOf(resource.project, record) })
    } catch (error) {
      results.push({ ok: false, error: itemError(ctx, error) })
    }
  }
  ctx.reply(insertedManyFrame(resource.name, results))
}

export async function handleDeleteMany (ctx: RequestContext, message: DeleteManyMessage): Promise<void> {
  const resource = accessible(ctx, message.resource)
  const results: DeletedItem[] = []
  for (const [index, id] of message.ids.entries()) {
    if (closed(ctx)) return
    try {
      chargeItem(ctx, index)
      await deleteOne(ctx, resource, id)
      results.push({ ok: true, id })
    } catch (error) {
      results.push({ ok: false, id, error: itemError(ctx, error) })
    }
  }
  ctx.reply(deletedManyFrame(resource.name, results))
}
