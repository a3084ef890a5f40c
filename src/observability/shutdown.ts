import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'

/**
 * s3db.js 19.5.10 bundles a terminal UI whose module load registers SIGTERM/SIGINT listeners
 * that call `process.exit(0)` at once. They run before any handler the app adds later, so no
 * drain ever happens. These are their function names; nothing else is touched.
 */
const EXITING_HANDLERS = new Set(['mouseSigtermHandler', 'mouseSigintHandler'])

/** Removes s3db.js's immediately-exiting signal listeners; returns how many were removed. */
export function detachExitingSignalHandlers (): number {
  let removed = 0
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    for (const listener of process.listeners(signal)) {
      if (EXITING_HANDLERS.has(listener.name)) {
        process.removeListener(signal, listener)
        removed++
      }
    }
  }
  return removed
}

export interface GracefulShutdownOptions {
  /** Disconnected after the server closed (an s3db.js Database). */
  database?: { disconnect (): Promise<void> }
  /** Longest the shutdown may take; past it the process exits with code 1. @default 10000 */
  delay?: number
}

/**
 * On SIGTERM/SIGINT (or an uncaught error): `app.close()` — stop accepting connections and
 * upgrades, close every socket with 1001 "Server shutting down" and wait for the closing
 * handshakes (at most `drainTimeout`), let in-flight HTTP requests finish — then disconnect
 * s3db and exit 0. Bounded by `delay`. Create the Database with `exitOnSignal: false`, or s3db
 * exits on its own once its cleanup is done, possibly mid-drain.
 */
export function installGracefulShutdown (app: FastifyInstance, options: GracefulShutdownOptions = {}): { close: () => void, uninstall: () => void } {
  const delay = options.delay ?? 10_000
  if (!Number.isInteger(delay) || delay < 1) throw new TypeError('installGracefulShutdown: delay must be a positive integer (ms)')
  detachExitingSignalHandlers()
  return closeWithGrace({
    delay,
    logger: { error: (message: unknown) => { app.log.error(message) } }
  }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'fatal error, shutting down')
    else app.log.info({ signal }, 'shutting down')
    await app.close()
    await options.database?.disconnect()
    app.log.info('shutdown complete')
  })
}
