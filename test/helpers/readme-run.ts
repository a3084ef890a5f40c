import { spawn } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ts from 'typescript'
import { ROOT, type ReadmeBlock } from './readme.js'

/*
 * Turns code blocks of README.md and docs/*.md into programs a user could have written, compiles
 * them with the project's TypeScript against the built package, and runs each in its own Node
 * process.
 */

/** A block made into a module: prelude (harness, missing imports) + block + epilogue. */
export interface Generated {
  block: ReadmeBlock
  file: string
  /** Lines before the block's first line, to map compiler messages back to the Markdown file's lines. */
  offset: number
  env: Record<string, string>
  timeoutMs: number
}

/** Names a fragment may use without defining: imports added for it when it does not import them. */
const IMPORTS: Record<string, string> = {
  s3dbRealtime: "import s3dbRealtime from 's3db-realtime'",
  Fastify: "import Fastify from 'fastify'",
  Database: "import { Database } from 's3db.js'",
  WebSocket: "import WebSocket from 'ws'" // Node 20 has no global WebSocket; browsers and Node 22 do
}

/** Names the harness supplies (test/readme/harness.ts `setup()`). */
const CONTEXT = ['app', 'db', 'client', 'ws', 'token', 'connectionString', 'getAccessToken', 'getFreshJwt', 'sessionUser', 'render', 'add', 'replace', 'remove', 'show', 'showCount', 'view', 'BILLING', 'cache', 'search']

/** Top-level names a block declares (imports, variables, functions, classes). */
export function declaredNames (code: string): Set<string> {
  const source = ts.createSourceFile('block.ts', code, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS)
  const names = new Set<string>()
  const bind = (name: ts.BindingName): void => {
    if (ts.isIdentifier(name)) names.add(name.text)
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) bind(element.name)
  }
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause
      if (clause?.name !== undefined) names.add(clause.name.text)
      const bindings = clause?.namedBindings
      if (bindings !== undefined && ts.isNamespaceImport(bindings)) names.add(bindings.name.text)
      if (bindings !== undefined && ts.isNamedImports(bindings)) for (const element of bindings.elements) names.add(element.name.text)
    } else if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) bind(declaration.name)
    } else if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) && statement.name !== undefined) {
      names.add(statement.name.text)
    }
  }
  return names
}

/** Names used as free identifiers (not after a `.`, not an object key) that the block does not declare. */
export function freeNames (code: string, candidates: string[]): string[] {
  const declared = declaredNames(code)
  return candidates.filter((name) => !declared.has(name) && new RegExp(`(?<![.\\w$'"\`])${name}\\b(?!\\s*:(?!:))`).test(code))
}

export interface BuildInput {
  block: ReadmeBlock
  /** The block's code after substitutions and wrapping. */
  code: string
  setup: Record<string, unknown>
  after: string
  env: Record<string, string>
  timeoutMs: number
}

/**
 * A temporary project: node_modules links every package of this repository and maps
 * `s3db-realtime` to the repository itself (its `exports` point at dist), the harness, and one
 * module per block.
 */
export async function buildProject (inputs: BuildInput[]): Promise<{ dir: string, generated: Generated[], diagnostics: Map<string, string[]>, cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 's3db-readme-'))
  const modules = join(dir, 'node_modules')
  await mkdir(modules)
  for (const entry of await readdir(join(ROOT, 'node_modules'))) {
    if (entry === 's3db-realtime' || entry.startsWith('.')) continue
    await symlink(join(ROOT, 'node_modules', entry), join(modules, entry))
  }
  await symlink(ROOT, join(modules, 's3db-realtime'))
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'readme-blocks', private: true, type: 'module' }))
  await copyFile(join(ROOT, 'test/readme/harness.ts'), join(dir, 'harness.ts'))

  const generated: Generated[] = []
  const sources = [join(dir, 'harness.ts')]
  for (const [index, input] of inputs.entries()) {
    const ext = input.block.lang === 'js' ? 'js' : 'ts'
    const file = `block-${String(index).padStart(2, '0')}.${ext}`
    const imports = freeNames(input.code, Object.keys(IMPORTS)).map((name) => IMPORTS[name])
    const context = freeNames(input.code, CONTEXT)
    const prelude = [
      "import * as __h from './harness.js'",
      ...imports,
      `const __ctx = await __h.setup(${JSON.stringify(input.setup)})`,
      context.length > 0 ? `const { ${context.join(', ')} } = __ctx` : '',
      `// ${input.block.file} line ${input.block.line + 1}: ${input.block.id}`
    ]
    const epilogue = [input.after, 'await __ctx.finish()', '__h.done()']
    sources.push(join(dir, file))
    await writeFile(join(dir, file), [...prelude, input.code, ...epilogue].join('\n') + '\n')
    generated.push({ block: input.block, file: join(dir, 'out', file.replace(/\.ts$/, '.js')), offset: prelude.length, env: input.env, timeoutMs: input.timeoutMs })
  }

  // Strict, like a TypeScript user's app; JS blocks are compiled (syntax checked) but not type-checked.
  const program = ts.createProgram(sources, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    esModuleInterop: true,
    skipLibCheck: true,
    types: ['node'],
    allowJs: true,
    checkJs: false,
    rootDir: dir,
    outDir: join(dir, 'out')
  })
  const emitted = program.emit()
  const diagnostics = new Map<string, string[]>()
  for (const diagnostic of [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics]) {
    const name = diagnostic.file?.fileName.replace(`${dir}/`, '') ?? '(project)'
    const owner = generated.find((g) => g.file.endsWith(`/out/${name.replace(/\.ts$/, '.js')}`))
    let where = name
    if (diagnostic.file !== undefined && diagnostic.start !== undefined) {
      const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
      where = owner === undefined ? `${name}:${line + 1}:${character + 1}` : `${owner.block.file}:${owner.block.line + line + 1 - owner.offset}:${character + 1}`
    }
    const key = owner?.block.id ?? name
    diagnostics.set(key, [...(diagnostics.get(key) ?? []), `${where} TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`])
  }
  return { dir, generated, diagnostics, cleanup: async () => { await rm(dir, { recursive: true, force: true }) } }
}

export interface RunResult { code: number | null, signal: NodeJS.Signals | null, output: string, timedOut: boolean }

/** Runs one compiled block; kills it past its timeout. */
export async function runBlock (dir: string, generated: Generated): Promise<RunResult> {
  const child = spawn(process.execPath, [generated.file], { cwd: dir, env: { ...process.env, ...generated.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  let timedOut = false
  const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL') }, generated.timeoutMs)
  return await new Promise((resolve) => {
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, output, timedOut }) })
  })
}

/** Runs tasks with at most `limit` at a time; each result promise settles as soon as its task does. */
export function pool<T> (tasks: Array<() => Promise<T>>, limit: number): Array<Promise<T>> {
  let running = 0
  const queue: Array<() => void> = []
  const next = (): void => { running--; queue.shift()?.() }
  return tasks.map(async (task) => {
    if (running >= limit) await new Promise<void>((resolve) => queue.push(resolve))
    running++
    try { return await task() } finally { next() }
  })
}
