#!/usr/bin/env node
/**
 * `npx s3db-realtime [--config file.json]`: a standalone server for users who do not write a
 * Fastify app. Configuration comes from the JSON file and/or environment variables (config.ts).
 */
import { ConfigError, USAGE, loadConfig, packageVersion, parseArgs } from './config.js'
import { installShutdown, startServer } from './server.js'

async function main (): Promise<number> {
  const args = parseArgs(process.argv.slice(2))
  if (args === 'help' || args === 'version') {
    process.stdout.write((args === 'help' ? USAGE : packageVersion()) + '\n')
    return 0
  }
  const config = await loadConfig(args.config, process.env)
  const server = await startServer(config)
  installShutdown(server, config.shutdownDelay)
  server.app.log.info({ url: server.url, resources: Object.keys(config.resources) }, 's3db-realtime ready')
  return -1 // keep running
}

main().then((code) => {
  if (code >= 0) process.exit(code)
}, (error: unknown) => {
  // Configuration mistakes (ours or the plugin's coded option errors) get a message, not a stack.
  const code = (error as { code?: unknown }).code
  const isConfig = error instanceof ConfigError || (typeof code === 'string' && code.startsWith('S3DB_REALTIME_'))
  let message = isConfig ? (error as Error).message : (error as Error).stack ?? String(error)
  // The usual cause: a resource listed in `resources` with no definition to create it from.
  if (code === 'S3DB_REALTIME_UNKNOWN_RESOURCE') message += '; add its definition to "createResources" in the config file, or create it in the database first'
  process.stderr.write(`s3db-realtime: ${message}\n${error instanceof ConfigError ? '\n' + USAGE + '\n' : ''}`)
  process.exit(isConfig ? 2 : 1)
})
