import type { Connection } from '../connection/connection.js'

/**
 * This node's sockets per channel (for delivery) and channels per socket (for cleanup when the
 * socket goes). Always local: in a cluster every node delivers to its own sockets.
 */
export class LocalChannelRegistry {
  private readonly byChannel = new Map<string, Map<string, Connection>>()
  private readonly byClient = new Map<string, Set<string>>()

  add (channel: string, connection: Connection): void {
    let sockets = this.byChannel.get(channel)
    if (sockets === undefined) this.byChannel.set(channel, sockets = new Map())
    sockets.set(connection.id, connection)
    let channels = this.byClient.get(connection.id)
    if (channels === undefined) this.byClient.set(connection.id, channels = new Set())
    channels.add(channel)
  }

  /** Returns false when the connection was not in the channel. Empty entries are dropped. */
  remove (channel: string, clientId: string): boolean {
    const sockets = this.byChannel.get(channel)
    if (sockets === undefined || !sockets.delete(clientId)) return false
    if (sockets.size === 0) this.byChannel.delete(channel)
    const channels = this.byClient.get(clientId)
    channels?.delete(channel)
    if (channels?.size === 0) this.byClient.delete(clientId)
    return true
  }

  has (channel: string, clientId: string): boolean {
    return this.byChannel.get(channel)?.has(clientId) ?? false
  }

  channelsOf (clientId: string): string[] {
    return [...(this.byClient.get(clientId) ?? [])]
  }

  channelCountOf (clientId: string): number {
    return this.byClient.get(clientId)?.size ?? 0
  }

  connections (channel: string): Iterable<Connection> {
    return this.byChannel.get(channel)?.values() ?? []
  }

  /** Connections in at least one channel. */
  get clientCount (): number {
    return this.byClient.size
  }
}
