import type { ChannelService } from '../../channels/service.js'
import type { ChannelMessageMessage, ChannelUpdateMessage, JoinMessage, LeaveMessage } from '../../channels/schemas.js'
import type { Handler } from '../context.js'

export interface ChannelHandlers {
  join: Handler<JoinMessage>
  leave: Handler<LeaveMessage>
  message: Handler<ChannelMessageMessage>
  update: Handler<ChannelUpdateMessage>
}

/** join / leave / channel:message / channel:update, as PROTOCOL.md section 2 lists them. */
export function channelHandlers (service: ChannelService): ChannelHandlers {
  return {
    join: async (ctx, message) => {
      const reply = await service.join(ctx.connection, message.channel, message.userInfo)
      if (reply !== null) ctx.reply({ ...reply })
    },
    leave: (ctx, message) => {
      service.leave(ctx.connection, message.channel)
      ctx.reply({ type: 'channel:left', channel: message.channel })
    },
    message: (ctx, message) => {
      const delivered = service.message(ctx.connection, message.channel, message.event, message.data ?? null)
      ctx.reply({ type: 'channel:sent', channel: message.channel, delivered })
    },
    update: (ctx, message) => {
      const member = service.update(ctx.connection, message.channel, message.userInfo)
      ctx.reply({ type: 'channel:updated', channel: message.channel, member })
    }
  }
}
