import type { Hub } from '../hub/hub.js'
import type { ResolvedChannelsOptions } from '../options/channels.js'
import type { PresenceStore } from './presence-store.js'
import { ChannelService } from './service.js'

/**
 * Builds the channel service (its messages are rows of src/protocol/messages.ts, handed the
 * service through their context), attaches it to the hub (which delegates its channel API to
 * it) and cleans a socket's memberships when it goes. Call `close()` on shutdown.
 */
export function installChannels (hub: Hub, options: ResolvedChannelsOptions, store?: PresenceStore): ChannelService {
  const service = new ChannelService(hub, options, store)
  hub.on('client.disconnected', ({ clientId }) => { service.disconnect(clientId) })
  hub.channels = service
  return service
}
