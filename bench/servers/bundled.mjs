// The incumbent: s3db.js 19.5.10's bundled WebSocketPlugin, configured like the others, with
// one workaround (see below) so that anything beyond subscribe/publish works at all.
// Its resource listeners wait for 'insert'/'update'/'delete', which s3db never emits (it emits
// 'inserted'/'updated'/'deleted'), so real writes produce no events. To measure its fan-out
// code at all, events are injected by emitting the event name it listens for ('insert')
// synchronously on the resource; that runs its own _broadcastResourceEvent unchanged.
import { JWT_SECRET } from '../lib/common.mjs'

export async function startBundled ({ db, port }) {
  const { WebSocketPlugin } = await import('s3db.js')
  const plugin = new WebSocketPlugin({
    port,
    host: '127.0.0.1',
    startupBanner: false,
    logLevel: 'silent',
    auth: { required: true, drivers: [{ driver: 'jwt', config: { secret: JWT_SECRET } }] },
    resources: { messages: true, feed: true },
    health: false
  })
  // Its constructor copies `this.database` into its config before the plugin is installed, so
  // the server it starts has database = null: CRUD answers INTERNAL_ERROR and no resource
  // listeners are attached. Setting the field it meant to set lets CRUD and its fan-out run.
  plugin.config.database = db
  await db.usePlugin(plugin)
  return {
    url: `ws://127.0.0.1:${port}/`,
    restUrl: null,
    authConfigured: true,
    fire: (resource, record) => { db.resources[resource].emitSync('insert', record) },
    connections: () => plugin.server?.clients.size ?? 0,
    close: async () => { await plugin.stop() }
  }
}
