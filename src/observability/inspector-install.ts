import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import type { Connection } from '../connection/connection.js'
import { DEFAULTS } from '../options/defaults.js'
import type { ResolvedInspector } from '../options/inspector.js'
import { Inspector, type InspectorSnapshot, type InspectorSources } from './inspector.js'
import { InspectorFeed } from './inspector-feed.js'
import { InspectorHistory } from './inspector-history.js'
import { registerInspectorRoute } from './inspector-route.js'

export interface InspectorSetup {
  /** What the `inspect` handler uses (`ctx.services.inspector`); null when the option is off. */
  readonly feed: InspectorFeed | null
  /** For the WS route: `authorize` on upgrades that ask for the inspector; null without it. */
  readonly upgradeHook: preHandlerAsyncHookHandler | null
  /** `app.realtime.inspect()`: the picture now, with the whole chart history. */
  inspect (): InspectorSnapshot
  /** Each accepted socket (carries an `authorize` grant from its upgrade over). */
  admit (request: FastifyRequest, connection: Connection): void
  start (): void
  close (): void
}

/**
 * The inspector. `inspect()` always works (for apps that build their own view): off, it samples
 * the counters when called, so its rates span the time since the previous call. On, the page
 * route, the feed and its timer are added; off, none of them exists.
 */
export function installInspector (
  fastify: FastifyInstance, sources: Omit<InspectorSources, 'history'>, options: ResolvedInspector | null
): InspectorSetup {
  const history = new InspectorHistory(sources.hub)
  const inspector = new Inspector({ ...sources, history }, options?.limit ?? DEFAULTS.inspector.limit)
  const feed = options === null ? null : new InspectorFeed(inspector, history, sources.hub, options)
  if (options !== null) registerInspectorRoute(fastify, options, sources.path)
  return {
    feed,
    upgradeHook: feed?.upgradeHook() ?? null,
    inspect: () => {
      if (feed === null && Date.now() - history.lastAt >= 250) history.sample()
      return inspector.snapshot({ fullHistory: true, inspectors: feed?.watching ?? 0 })
    },
    admit: (request, connection) => { feed?.admit(request, connection) },
    start: () => { feed?.start() },
    close: () => { feed?.close() }
  }
}
