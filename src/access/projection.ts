import type { RecordData } from '../types.js'

/** Removes fields from records before they leave the server, without touching the original. */
export type Projector = (record: RecordData) => RecordData

/** s3db internals such as `_etag`, `_v` or `$before` never leave the server. */
function isInternalKey (key: string): boolean {
  return key.startsWith('_') || key.startsWith('$')
}

interface PathTree { [segment: string]: PathTree | true }

function buildTree (paths: readonly string[]): PathTree {
  const tree: PathTree = {}
  for (const path of paths) {
    const segments = path.split('.')
    let node = tree
    segments.forEach((segment, index) => {
      if (index === segments.length - 1) {
        node[segment] = true
        return
      }
      const next = node[segment]
      if (next === true) return
      node = next ?? (node[segment] = {})
    })
  }
  return tree
}

/**
 * Copies only what may be sent: top level drops s3db internals and protected fields; nested
 * objects on a protected path are copied (never mutated) with their protected leaves removed.
 */
function copyWithout (value: RecordData, tree: PathTree, topLevel: boolean): RecordData {
  const out: RecordData = {}
  for (const key of Object.keys(value)) {
    if (topLevel && isInternalKey(key)) continue
    const rule = tree[key]
    if (rule === true) continue
    const inner = value[key]
    if (rule !== undefined && inner !== null && typeof inner === 'object' && !Array.isArray(inner)) {
      out[key] = copyWithout(inner as RecordData, rule, false)
    } else {
      out[key] = inner
    }
  }
  return out
}

export function createProjector (protectedPaths: readonly string[]): Projector {
  const tree = buildTree(protectedPaths)
  return (record) => copyWithout(record, tree, true)
}
