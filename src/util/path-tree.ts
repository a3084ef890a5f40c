/** Dot paths as a tree: `true` marks a selected leaf (or a whole subtree). */
export interface PathTree { [segment: string]: PathTree | true }

/**
 * Builds the tree of `paths` (`['a.b', 'a.c']` → `{a: {b: true, c: true}}`); a path under one
 * already whole is dropped. Null prototypes: a field named "toString" must not find Object's.
 */
export function buildPathTree (paths: readonly string[]): PathTree {
  const tree: PathTree = Object.create(null) as PathTree
  for (const path of paths) {
    const segments = path.split('.')
    let node = tree
    for (let index = 0; index < segments.length; index++) {
      const segment = segments[index] as string
      if (index === segments.length - 1) {
        node[segment] = true
        break
      }
      const next = node[segment]
      if (next === true) break // the whole ancestor is already in
      node = next ?? (node[segment] = Object.create(null) as PathTree)
    }
  }
  return tree
}
