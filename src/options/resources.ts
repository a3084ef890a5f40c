import { sealedAttributes } from '../records/attribute-types.js'
import { flatteningAttributes, withStoredNames } from '../records/stored-names.js'
import { createProjector } from '../access/projection.js'
import { protectedNames } from '../access/protected-paths.js'
import { defineVersioner } from '../records/version.js'
import type { GuardResult, PublishAuth, ResolvedResource, ResourceGuards } from '../access/resource.js'
import { UnknownResourceError } from '../errors.js'
import type { ChangeType, DatabaseLike } from '../types.js'
import { isPlainObject } from '../util/paths.js'
import { DEFAULTS } from './defaults.js'
import { fail, onlyKeys, stringList } from './validate.js'

export type { GuardResult, ResourceGuards }

/** Per-resource configuration: `true` enables with no restrictions, `false` disables. */
export interface ResourceOptions {
  /** Roles allowed to use this resource at all (every operation, events included). @default every role */
  auth?: string[]
  /**
   * Fields (dot paths, through arrays too) that are server-only: removed from every payload that
   * leaves the server, and a client write that sets or changes one is refused (FORBIDDEN).
   * @default []
   */
  protected?: string[]
  /**
   * Protected fields a client may write but never read back (a password set on sign-up).
   * They are protected whether or not `protected` lists them. @default []
   */
  writeOnly?: string[]
  /**
   * Whether a caller whose view a `list` guard restricts may choose the id of a record it
   * inserts. Off by default: a refused or colliding id would tell it that a record it cannot
   * see exists. Unrestricted callers (guard answers true, or no guard) may always choose ids.
   * @default false
   */
  clientIds?: boolean
  /** Change events broadcast for this resource. @default ['insert','update','delete'] */
  events?: ChangeType[]
  guard?: ResourceGuards
  /** Who may `publish` to the channel named after this resource: roles, or a function. @default anyone */
  publishAuth?: PublishAuth
}
export type ResourceConfig = boolean | ResourceOptions

const CHANGE_TYPES: readonly ChangeType[] = DEFAULTS.resource.events
const GUARD_NAMES = ['subscribe', 'list', 'get', 'create', 'update', 'delete'] as const
const RESOURCE_KEYS = Object.keys(DEFAULTS.resource)

/** One entry of `resources`; null when it is `false` (disabled). */
export function resolveResource (name: string, config: unknown, database: DatabaseLike): ResolvedResource | null {
  if (config === false) return null
  if (config !== true && !isPlainObject(config)) {
    fail(`resources.${name} must be true, false or an object with auth/protected/writeOnly/clientIds/events/guard/publishAuth`)
  }
  const resource = database.resources[name]
  if (resource === undefined) throw new UnknownResourceError(name)
  const options: Record<string, unknown> = config === true ? {} : config
  onlyKeys(options, `resources.${name}`, RESOURCE_KEYS, 'resource option')
  const roles = options.auth === undefined ? DEFAULTS.resource.auth : stringList(options.auth, `resources.${name}.auth`)
  const serverOnlyFields = options.protected === undefined ? [...DEFAULTS.resource.protected] : stringList(options.protected, `resources.${name}.protected`)
  const writeOnly = options.writeOnly === undefined ? [...DEFAULTS.resource.writeOnly] : stringList(options.writeOnly, `resources.${name}.writeOnly`)
  // s3db `secret*` attributes (encrypted at rest, handed out as ciphertext by some write paths:
  // update's result and event) and `password` ones (bcrypt hashes): no payload or filter could
  // treat them consistently or safely, so they never travel over the socket, either way.
  const encryptedFields = withStoredNames(sealedAttributes(resource), resource)
  serverOnlyFields.push(...withStoredNames(serverOnlyFields, resource), ...encryptedFields)
  const protectedFields = [...new Set([...serverOnlyFields, ...withStoredNames(writeOnly, resource)])]
  const clientIds = options.clientIds ?? DEFAULTS.resource.clientIds
  if (typeof clientIds !== 'boolean') fail(`resources.${name}.clientIds must be a boolean`)
  const events = options.events === undefined ? [...CHANGE_TYPES] : stringList(options.events, `resources.${name}.events`)
  for (const event of events) {
    if (!CHANGE_TYPES.includes(event as ChangeType)) fail(`resources.${name}.events: unknown event "${event}"`)
  }
  const guard = options.guard ?? { ...DEFAULTS.resource.guard }
  if (!isPlainObject(guard)) fail(`resources.${name}.guard must be an object of functions`)
  for (const [key, fn] of Object.entries(guard)) {
    if (!(GUARD_NAMES as readonly string[]).includes(key)) fail(`resources.${name}.guard.${key} is not a known guard`)
    if (typeof fn !== 'function') fail(`resources.${name}.guard.${key} must be a function`)
  }
  const publishAuth = options.publishAuth ?? DEFAULTS.resource.publishAuth
  if (publishAuth !== null && typeof publishAuth !== 'function') stringList(publishAuth, `resources.${name}.publishAuth`)
  const declared = new Set(Object.keys(resource.attributes ?? resource.config?.attributes ?? {}))
  const flattening = flatteningAttributes(resource)
  const project = createProjector(protectedFields, declared, flattening)
  // Versions (`ifVersion`) are fingerprints of the record as seen through this projection.
  defineVersioner(resource, project)
  return {
    name,
    resource,
    roles,
    protectedFields,
    protectedNames: protectedNames(protectedFields, declared, flattening),
    serverOnlyFields: [...new Set(serverOnlyFields)].filter((path) => !writeOnly.includes(path) || encryptedFields.includes(path)),
    encryptedFields,
    clientIds,
    events: new Set(events as ChangeType[]),
    guard: guard as ResourceGuards,
    publishAuth: publishAuth as PublishAuth | null,
    project
  }
}
