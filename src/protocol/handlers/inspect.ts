import { ErrorCodes, ProtocolError } from '../../errors.js'
import type { ClientMessage } from '../../wire/client-schemas.js'
import { inspectorFrame } from '../../wire/frames.js'
import type { RequestContext } from '../context.js'

/**
 * `{type:'inspect'}`: the live inspector's feed (docs/operations.md#inspector). The reply carries
 * the picture now; the same frame, without requestId, is then pushed every `inspector.interval`.
 * Refused before this handler (as an unknown type) when the option is off.
 */
export function handleInspect (ctx: RequestContext, _message: ClientMessage<'inspect'>): void {
  const inspector = ctx.services.inspector
  if (inspector === undefined || inspector === null) throw new ProtocolError(ErrorCodes.UNKNOWN_MESSAGE_TYPE, 'Unknown message type "inspect"')
  ctx.reply(inspectorFrame(inspector.watch(ctx.connection)))
}
