import type { Connection } from '../connection/connection.js'

/**
 * What the `inspect` handler asks of the inspector (src/observability/inspector-feed.ts, built
 * by the plugin only when the `inspector` option is on): kept here, below both, so the protocol
 * does not import observability.
 */
export interface InspectorPort {
  /**
   * Adds `connection` to the sockets the picture is pushed to and returns the picture now (with
   * the full chart history). Throws ProtocolError FORBIDDEN when the socket may not inspect, and
   * LIMIT_EXCEEDED when too many sockets already do.
   */
  watch (connection: Connection): Record<string, unknown>
}
