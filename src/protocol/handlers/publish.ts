import type { FastifyBaseLogger } from 'fastify'
import { checkResourceRoles, hasAnyRole, requireResource } from '../../access/access.js'
import { requirePublishVisible } from '../../access/visibility.js'
import { ErrorCodes, ProtocolError } from '../../errors.js'
import type { ResolvedResource } from '../../access/resource.js'
import type { PublishMessage } from '../../wire/client-schemas.js'
import { encode, publishedFrame, publishMessageFrame, senderOf } from '../../wire/frames.js'
import type { RealtimeUser } from '../../types.js'
import { isPlainObject } from '../../util/paths.js'
import { requireOpen, type RequestContext } from '../context.js'

/** `publishAuth`: roles (any one suffices; anonymous never matches) or a function returning true. */
async function checkPublishAuth (resource: ResolvedResource, user: RealtimeUser | null, message: unknown, log: FastifyBaseLogger): Promise<void> {
  const rule = resource.publishAuth
  if (rule === null || rule === undefined) return
  let allowed: boolean
  if (typeof rule === 'function') {
    try {
      allowed = await rule(user, message) === true
    } catch (error) {
      log.warn({ err: error, resource: resource.name }, 'realtime: publishAuth threw; publish denied')
      allowed = false
    }
  } else {
    allowed = hasAnyRole(user, rule)
  }
  if (!allowed) throw new ProtocolError(ErrorCodes.FORBIDDEN, `Not allowed to publish to "${resource.name}"`)
}

/**
 * A published message may carry a record of the resource, as the message itself or in its
 * `data` / `record` field: protected fields (and s3db internals) are removed from all three
 * places, on copies, so the sender's object is never changed.
 */
export function projectPublished (resource: ResolvedResource, message: unknown): unknown {
  if (!isPlainObject(message)) return message
  const out = resource.project(message)
  for (const key of ['data', 'record']) {
    const inner = out[key]
    if (isPlainObject(inner)) out[key] = resource.project(inner)
  }
  return out
}

/** `publish {channel, message}` -> `published {channel, delivered}`; see PROTOCOL.md. */
export async function handlePublish (ctx: RequestContext, message: PublishMessage): Promise<void> {
  const resource = requireResource(ctx.options, message.channel)
  const user = ctx.connection.user
  checkResourceRoles(resource, user)
  await checkPublishAuth(resource, user, message.message, ctx.log)
  await requirePublishVisible(resource, user, message.message, ctx.log)
  const frame = encode(publishMessageFrame(resource.name, projectPublished(resource, message.message), senderOf(ctx.connection.id, user)))
  requireOpen(ctx)
  const delivered = ctx.hub.deliverPublished(resource.name, frame, ctx.connection.id, message.message)
  // Clustered: the other instances deliver it to their subscribers (`delivered` counts this one).
  ctx.services.relay.send({ kind: 'publish', resource: resource.name, frame, excludeClientId: ctx.connection.id, message: message.message })
  ctx.reply(publishedFrame(resource.name, delivered))
}
