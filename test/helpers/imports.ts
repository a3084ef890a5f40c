import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import ts from 'typescript'

/** One relative import between two files of a source tree (type-only imports included). */
export interface ImportEdge {
  from: string
  to: string
}

function sourceFiles (dir: string): string[] {
  const files: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) files.push(...sourceFiles(path))
    else if (entry.name.endsWith('.ts')) files.push(path)
  }
  return files
}

/**
 * Every relative import under `root`, as paths relative to `root` (`hub/local-hub.ts`).
 * TypeScript's own pre-processor finds them, so `import type`, `export … from` and dynamic
 * `import()` all count.
 */
export function importGraph (root: string): { files: string[], edges: ImportEdge[] } {
  const files = sourceFiles(root).map((file) => relative(root, file))
  const edges: ImportEdge[] = []
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true)
    for (const imported of info.importedFiles) {
      if (!imported.fileName.startsWith('.')) continue
      const to = normalize(join(dirname(file), imported.fileName)).replace(/\.js$/, '.ts')
      edges.push({ from: file, to })
    }
  }
  return { files, edges }
}

/** The cycles between files (each as a path a → … → a), found with Tarjan's strongly connected components. */
export function importCycles (files: string[], edges: ImportEdge[]): string[][] {
  const next = new Map<string, string[]>(files.map((file) => [file, []]))
  for (const edge of edges) next.get(edge.from)?.push(edge.to)
  let counter = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const components: string[][] = []
  const visit = (file: string): void => {
    index.set(file, counter)
    low.set(file, counter)
    counter++
    stack.push(file)
    onStack.add(file)
    for (const to of next.get(file) ?? []) {
      if (!index.has(to)) {
        visit(to)
        low.set(file, Math.min(low.get(file) as number, low.get(to) as number))
      } else if (onStack.has(to)) {
        low.set(file, Math.min(low.get(file) as number, index.get(to) as number))
      }
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = []
      let member: string
      do {
        member = stack.pop() as string
        onStack.delete(member)
        component.push(member)
      } while (member !== file)
      const selfLoop = (next.get(file) ?? []).includes(file)
      if (component.length > 1 || selfLoop) components.push(component.sort())
    }
  }
  for (const file of files) if (!index.has(file)) visit(file)
  return components
}
