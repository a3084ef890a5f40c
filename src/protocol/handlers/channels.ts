import type { ChannelMessageMessage, ChannelUpdateMessage, JoinMessage, LeaveMessage } from '../../wire/client-schemas.js'
import { channelLeftFrame, channelSentFrame, channelUpdatedFrame } from '../../wire/frames.js'
import type { RequestContext } from '../context.js'

/* join / leave / channel:message / channel:update, as PROTOCOL.md section 2 lists them. */

export async function handleJoin (ctx: RequestContext, message: JoinMessage): Promise<void> {
  const reply = await ctx.services.channels.join(ctx.connection, message.channel, message.userInfo)
  if (reply !== null) ctx.reply(reply)
}

export function handleLeave (ctx: RequestContext, message: LeaveMessage): void {
  ctx.services.channels.leave(ctx.connection, message.channel)
  ctx.reply(channelLeftFrame(message.channel))
}

export function handleChannelMessage (ctx: RequestContext, message: ChannelMessageMessage): void {
  const delivered = ctx.services.channels.message(ctx.connection, message.channel, message.event, message.data ?? null)
  ctx.reply(channelSentFrame(message.channel, delivered))
}

export function handleChannelUpdate (ctx: RequestContext, message: ChannelUpdateMessage): void {
  const member = ctx.services.channels.update(ctx.connection, message.channel, message.userInfo)
  ctx.reply(channelUpdatedFrame(message.channel, member))
}
