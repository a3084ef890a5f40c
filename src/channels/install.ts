import { ErrorCodes, ProtocolError } from '../errors.js'
import type { Hub } from '../hub/hub.js'
import type { Dispatcher } from '../protocol/dispatcher.js'
import { channelHandlers } from '../protocol/handlers/channels.js'
import { handlePublish } from '../protocol/handlers/publish.js'
import type { ResolvedChannelsOptions } from './options.js'
import type { PresenceStore } from './presence-store.js'
import { ChannelSchemas } from './schemas.js'
import { ChannelService } from './service.js'

const CHANNEL_TYPES = new Set(['join', 'leave', 'channel:message', 'channel:update'])

/**
 * Registers publish and the channel messages, attaches the service to the hub (which delegates
 * its channel API to it) and cleans a socket's memberships when it goes. Returns the service;
 * call `close()` on shutdown.
 */
export function installChannels (hub: Hub, dispatcher: Dispatcher, options: ResolvedChannelsOptions, store?: PresenceStore): ChannelService {
  const service = new ChannelService(hub, options, store)
  dispatcher.register('publish', ChannelSchemas.publish, handlePublish)
  const handlers = channelHandlers(service)
  dispatcher.register('join', ChannelSchemas.join, handlers.join)
  dispatcher.register('leave', ChannelSchemas.leave, handlers.leave)
  dispatcher.register('channel:message', ChannelSchemas['channel:message'], handlers.message)
  dispatcher.register('channel:update', ChannelSchemas['channel:update'], handlers.update)
  if (!options.enabled) {
    // Before schema validation, so a disabled feature answers the same whatever was sent.
    dispatcher.addPreHandler((_connection, type) => {
      if (CHANNEL_TYPES.has(type)) throw new ProtocolError(ErrorCodes.CHANNELS_DISABLED, 'Channels are disabled on this server')
    })
  }
  hub.on('client.disconnected', ({ clientId }) => { service.disconnect(clientId) })
  hub.channels = service
  return service
}
