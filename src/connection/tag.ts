import type { WebSocket } from 'ws'
import type { Connection } from './connection.js'

const kConnection = Symbol('s3db-realtime.connection')
type TaggedSocket = WebSocket & { [kConnection]?: Connection }

/**
 * Links a socket to its connection, so listeners shared by every socket (ws calls them with
 * `this` = socket) find it without a closure per connection.
 */
export function tagSocket (socket: WebSocket, connection: Connection): void {
  (socket as TaggedSocket)[kConnection] = connection
}

/** The connection a socket was accepted as (undefined for foreign sockets). */
export function connectionOf (socket: WebSocket): Connection | undefined {
  return (socket as TaggedSocket)[kConnection]
}
