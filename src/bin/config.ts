import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { LOG_LEVELS } from '../options/core.js'
import { DEFAULTS } from '../options/defaults.js'
import { integerBetween, nonEmptyString, objectOrEmpty, oneOf, type Fail } from '../options/validate.js'
import { isPlainObject } from '../util/paths.js'

/** A resource the CLI creates when the database does not have it yet (s3db `createResource` input). */
export interface ResourceDefinition {
  name: string
  attributes: Record<string, unknown>
  [option: string]: unknown
}

/** What `s3db-realtime --config file.json` reads; environment variables override the file. */
export interface CliConfig {
  /** s3db connection string: memory://, file://, s3://KEY:SECRET@bucket, http://KEY:SECRET@host:port/bucket. Env S3DB_CONNECTION_STRING */
  connectionString: string
  /** Env PORT. @default 3001 */
  port: number
  /** Env HOST. @default '0.0.0.0' */
  host: string
  /** WebSocket route. Env WS_PATH. @default '/ws' */
  path: string
  /** Env LOG_LEVEL. @default 'info' */
  logLevel: string
  /** HS256 secret: enables the jwt auth driver. Env JWT_SECRET */
  jwtSecret: string | null
  /** Refuse anonymous upgrades (401). Env AUTH_REQUIRED=true. @default false */
  authRequired: boolean
  /** Resources exposed over WebSocket (names, or name -> plugin resource options). Env S3DB_REALTIME_RESOURCES=a,b */
  resources: Record<string, unknown>
  /** Resources to create when missing (s3db createResource definitions). */
  createResources: ResourceDefinition[]
  /** s3db Database options beyond the connection string (e.g. clientOptions, forcePathStyle). */
  database: Record<string, unknown>
  /** Any other plugin option (health, metrics, backpressure, maxConnections, compression, channels, …). */
  options: Record<string, unknown>
  /** Longest a graceful shutdown may take before the process exits anyway, ms. @default 10000 */
  shutdownDelay: number
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const KEYS = new Set(['connectionString', 'port', 'host', 'path', 'logLevel', 'jwtSecret', 'authRequired', 'resources', 'createResources', 'database', 'options', 'shutdownDelay'])

export const USAGE = `Usage: s3db-realtime [--config file.json] [--version] [--help]

Starts a Fastify server with the s3db-realtime WebSocket endpoint, health and metrics routes.
Environment variables (override the config file):
  S3DB_CONNECTION_STRING  s3db connection string (required)
  S3DB_REALTIME_RESOURCES comma-separated resource names to expose (required)
  PORT (3001)  HOST (0.0.0.0)  WS_PATH (/ws)  LOG_LEVEL (info)
  JWT_SECRET   enables HS256 JWT auth;  AUTH_REQUIRED=true refuses anonymous clients
  S3DB_REALTIME_CONFIG    path of the config file (same as --config)`

/** The plugin's validators, failing with a ConfigError (exit 2 and the usage) instead. */
const configFail: Fail = (message) => { throw new ConfigError(message) }
const integer = (value: unknown, name: string, min: number, max: number): number => integerBetween(value, name, min, max, configFail)
const text = (value: unknown, name: string): string => nonEmptyString(value, name, configFail)
const object = (value: unknown, name: string): Record<string, unknown> => objectOrEmpty(value, name, configFail)

function resourcesFrom (value: unknown): Record<string, unknown> {
  if (typeof value === 'string') value = value.split(',').map((s) => s.trim()).filter(Boolean)
  if (Array.isArray(value)) {
    if (value.some((v) => typeof v !== 'string' || v === '')) throw new ConfigError('resources must be resource names')
    return Object.fromEntries((value as string[]).map((name) => [name, true]))
  }
  return object(value, 'resources')
}

function definitions (value: unknown): ResourceDefinition[] {
  if (value === undefined) return [...DEFAULTS.cli.createResources]
  if (!Array.isArray(value) || value.some((d) => !isPlainObject(d) || typeof d.name !== 'string' || !isPlainObject(d.attributes))) {
    throw new ConfigError('createResources must be an array of { name, attributes, ... } s3db resource definitions')
  }
  return value as ResourceDefinition[]
}

async function readConfigFile (path: string): Promise<Record<string, unknown>> {
  let raw: string
  try {
    raw = await readFile(resolve(path), 'utf8')
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`)
  }
  if (!isPlainObject(parsed)) throw new ConfigError(`config file ${path} must hold a JSON object`)
  for (const key of Object.keys(parsed)) if (!KEYS.has(key)) throw new ConfigError(`config file ${path}: unknown key "${key}"`)
  return parsed
}

/** Parses `--config <file>`, `--help`, `--version`; the last two win over anything else. */
export function parseArgs (argv: readonly string[]): { config: string | null } | 'help' | 'version' {
  let config: string | null = null
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--help' || arg === '-h') return 'help'
    if (arg === '--version' || arg === '-v') return 'version'
    if (arg === '--config' || arg === '-c') {
      const next = argv[++i]
      if (next === undefined) throw new ConfigError('--config needs a file path')
      config = next
    } else if (arg.startsWith('--config=')) {
      config = arg.slice('--config='.length)
    } else {
      throw new ConfigError(`unknown argument "${arg}"`)
    }
  }
  return { config }
}

/** File values, then environment overrides, validated into one config. */
export async function loadConfig (configPath: string | null, env: NodeJS.ProcessEnv): Promise<CliConfig> {
  // An empty variable counts as unset (the usual shell idiom for clearing one).
  const fromEnv = (name: string): string | undefined => env[name] === '' ? undefined : env[name]
  const path = configPath ?? fromEnv('S3DB_REALTIME_CONFIG') ?? null
  const file = path === null ? {} : await readConfigFile(path)
  const pick = (envName: string, key: string): unknown => fromEnv(envName) ?? file[key]
  const connectionString = pick('S3DB_CONNECTION_STRING', 'connectionString')
  if (connectionString === undefined) throw new ConfigError('no connection string: set S3DB_CONNECTION_STRING or "connectionString"')
  const resources = resourcesFrom(pick('S3DB_REALTIME_RESOURCES', 'resources'))
  if (Object.keys(resources).length === 0) throw new ConfigError('no resources to expose: set S3DB_REALTIME_RESOURCES or "resources"')
  const logLevel = oneOf(text(pick('LOG_LEVEL', 'logLevel') ?? DEFAULTS.cli.logLevel, 'logLevel'), 'logLevel', LOG_LEVELS, configFail)
  const jwtSecret = pick('JWT_SECRET', 'jwtSecret')
  const authRequired = pick('AUTH_REQUIRED', 'authRequired') ?? DEFAULTS.cli.authRequired
  if (![true, false, 'true', 'false'].includes(authRequired as string)) throw new ConfigError('authRequired must be true or false')
  return {
    connectionString: text(connectionString, 'connectionString'),
    port: integer(pick('PORT', 'port') ?? DEFAULTS.cli.port, 'port', 0, 65535),
    host: text(pick('HOST', 'host') ?? DEFAULTS.cli.host, 'host'),
    path: text(pick('WS_PATH', 'path') ?? DEFAULTS.cli.path, 'path'),
    logLevel,
    jwtSecret: jwtSecret === undefined ? DEFAULTS.cli.jwtSecret : text(jwtSecret, 'jwtSecret'),
    authRequired: authRequired === true || authRequired === 'true',
    resources,
    createResources: definitions(file.createResources),
    database: object(file.database, 'database'),
    options: object(file.options, 'options'),
    shutdownDelay: integer(file.shutdownDelay ?? DEFAULTS.cli.shutdownDelay, 'shutdownDelay', 100, 600_000)
  }
}

/** The version in the package's own package.json (two levels up from src/bin and dist/bin alike). */
export function packageVersion (): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown }
  return typeof manifest.version === 'string' ? manifest.version : 'unknown'
}
