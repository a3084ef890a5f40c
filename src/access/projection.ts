import type { RecordData } from '../types.js'
import { flattenedUnderProtected, protectedNames, type ProtectedNames } from './protected-paths.js'
import { buildPathTree, type PathTree } from '../util/path-tree.js'

/** Removes fields from records before they leave the server, without touching the original. */
export type Projector = (record: RecordData) => RecordData

/** s3db internals such as `_etag`, `_v` or `$before` never leave the server. */
function isInternalKey (key: string): boolean {
  return key.startsWith('_') || key.startsWith('$')
}

/**
 * s3db 19.5.10 with `timestamps: true` leaves its own bookkeeping in records: `update` returns
 * and announces `metadata: {updatedAt}`, and a read adds `metadata_updatedat` (in an event's
 * `$after`, an older value than `updatedAt`). Unless the resource declares such a field, it is
 * s3db's, and never sent (so a reply, an event and a read of one state agree).
 */
function isTimestampArtifact (key: string, declared: ReadonlySet<string>): boolean {
  return (key === 'metadata' || key.startsWith('metadata_')) && !declared.has(key)
}


/** What a projector knows: the protected paths as a tree (matched exactly, or lowercased: s3db
 * lowercases the names it flattens), and the names for the flattening rule. */
interface Rules {
  readonly tree: PathTree
  readonly empty: boolean
  readonly names: ProtectedNames
}

function ruleFor (tree: PathTree, key: string): PathTree | true | undefined {
  return tree[key] ?? tree[key.toLowerCase()]
}

/** An array under a protected path: each element loses the same protected leaves. */
function copyArrayWithout (values: readonly unknown[], tree: PathTree): unknown[] {
  return values.map((element) => {
    if (Array.isArray(element)) return copyArrayWithout(element, tree)
    return element !== null && typeof element === 'object' ? copyWithout(element as RecordData, tree, false) : element
  })
}

/**
 * Copies only what may be sent: top level drops s3db internals and protected fields; nested
 * objects (and the objects inside arrays) on a protected path are copied, never mutated, with
 * their protected leaves removed.
 */
function copyWithout (value: RecordData, tree: PathTree, topLevel: boolean, rules: Rules | null = null): RecordData {
  const out: RecordData = {}
  for (const key of Object.keys(value)) {
    if (topLevel && rules !== null) {
      if (isInternalKey(key) || (rules.names.declared !== null && isTimestampArtifact(key, rules.names.declared)) || flattenedUnderProtected(key, rules.names)) continue
    }
    const rule = rules?.empty === true ? undefined : ruleFor(tree, key)
    if (rule === true) continue
    const inner = value[key]
    if (rule === undefined || inner === null || typeof inner !== 'object') out[key] = inner
    else if (Array.isArray(inner)) out[key] = copyArrayWithout(inner, rule)
    else out[key] = copyWithout(inner as RecordData, rule, false)
  }
  return out
}

/**
 * @param declared the resource's declared top-level attributes, when it keeps s3db's timestamp
 *   bookkeeping (see isTimestampArtifact); null: nothing is dropped for that reason.
 */
export function createProjector (protectedPaths: readonly string[], declared: ReadonlySet<string> | null = null): Projector {
  const tree = buildPathTree([...protectedPaths, ...protectedPaths.map((path) => path.toLowerCase())])
  const rules: Rules = { tree, empty: protectedPaths.length === 0, names: protectedNames(protectedPaths, declared) }
  return (record) => copyWithout(record, tree, true, rules)
}
