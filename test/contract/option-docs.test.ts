import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import ts from 'typescript'
import { DEFAULTS } from '../../src/options/defaults.js'

// The documented defaults are the code's: every option table of README.md and docs/*.md (a
// markdown table whose first column names an option in backticks and that has a Default
// column) and every `@default` tag of the option types is compared with DEFAULTS
// (src/options/defaults.ts), and every default in DEFAULTS must be documented in some table.
//
// Which options a table describes is read from where it stands: under a heading about the
// client (or in docs/client.md) it is the client's (skipped: client/ has its own defaults);
// a table with an Env column is the CLI's; under a heading (or after a line) saying
// "WebSocketPlugin only" it is WebSocketPlugin's; anything else is the plugin's.

const ROOT = resolve(import.meta.dirname, '../..')

type Scope = 'plugin' | 'compat' | 'cli'

interface Row {
  readonly file: string
  readonly line: number
  readonly scope: Scope
  readonly name: string
  /** The Default cell (for this name, when one cell documents several options with " / "). */
  readonly cell: string
  /** The whole row, for defaults the docs write inside the meaning (`${path}/ticket`). */
  readonly text: string
}

function cellsOf (line: string): string[] {
  return line.replace(/\\\|/g, '\u0000').split('|').slice(1, -1).map((cell) => cell.replace(/\u0000/g, '|').trim())
}

/** The option a first-column part names: its first backticked token, or the text around it (jwt/oidc `algorithms`). */
function optionName (part: string): string | null {
  const first = /`([^`]+)`/.exec(part)
  if (first === null) return null
  return part.startsWith('`') ? (first[1] as string) : part.replace(/`/g, '').trim()
}

function scopeOf (file: string, heading: string, lead: string, header: string[]): Scope | 'client' {
  if (/client/i.test(basename(file)) || /client/i.test(heading)) return 'client'
  if (header.some((cell) => /^env\b/i.test(cell))) return 'cli'
  if (/WebSocketPlugin`? only/i.test(heading) || /^`?WebSocketPlugin`? only/i.test(lead)) return 'compat'
  return 'plugin'
}

function readRows (file: string): Row[] {
  const lines = readFileSync(file, 'utf8').split('\n')
  const rows: Row[] = []
  let heading = ''
  let lead = ''
  let fenced = false
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    if (line.startsWith('```')) fenced = !fenced
    if (fenced) continue
    if (line.startsWith('#')) { heading = line; lead = ''; continue }
    if (!line.startsWith('|')) { if (line.trim() !== '') lead = line.trim(); continue }
    const header = cellsOf(line)
    const at = header.findIndex((cell) => /^default$/i.test(cell))
    let end = i + 1
    while (end < lines.length && (lines[end] as string).startsWith('|')) end++
    const scope = scopeOf(file, heading, lead, header)
    if (at > 0 && scope !== 'client') {
      for (let r = i + 2; r < end; r++) {
        const cells = cellsOf(lines[r] as string)
        const parts = (cells[0] ?? '').split(' / ')
        const defaults = (cells[at] ?? '').split(' / ')
        parts.forEach((part, p) => {
          const name = optionName(part)
          if (name === null) return
          const cell = parts.length > 1 && defaults.length === parts.length ? defaults[p] as string : cells[at] as string
          rows.push({ file: file.slice(ROOT.length + 1), line: r + 1, scope, name, cell, text: lines[r] as string })
        })
      }
    }
    i = end - 1
    lead = ''
  }
  return rows
}

const docFiles = [join(ROOT, 'README.md'), ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f))]
const rows = docFiles.flatMap(readRows)

interface Leaf {
  /** Path in DEFAULTS, e.g. `health.readiness.s3dbTimeout`. */
  readonly path: string
  readonly value: unknown
}

const isDerived = (value: unknown): value is { docs: string } =>
  typeof value === 'object' && value !== null && typeof (value as { docs?: unknown }).docs === 'string' && typeof (value as { of?: unknown }).of === 'function'

function leaves (value: unknown, path: string): Leaf[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || isDerived(value) || Object.keys(value).length === 0) return [{ path, value }]
  return Object.entries(value).flatMap(([key, inner]) => leaves(inner, path === '' ? key : `${path}.${key}`))
}

const allLeaves = leaves(DEFAULTS, '')

/** How the docs name the option a DEFAULTS path holds the default of, and in which scope. */
function docNames (path: string): { scope: Scope, names: string[] } {
  const [group, ...rest] = path.split('.')
  const key = rest.join('.')
  switch (group) {
    case 'core': return { scope: 'plugin', names: [key] }
    case 'compat': return { scope: 'compat', names: [key] }
    case 'cli': return { scope: 'cli', names: [key] }
    case 'resource': return { scope: 'plugin', names: [`resources.*.${key}`] }
    case 'readinessCheck': return { scope: 'plugin', names: [`health.readiness.checks[].${key}`, `…checks[].${key}`] }
    case 'authDriver': return { scope: 'plugin', names: [`jwt/oidc ${key.endsWith('Algorithms') ? 'algorithms' : key}`] }
    case 'tickets': return { scope: 'plugin', names: [key === 'routePath' ? 'tickets.route' : path] }
    default: return { scope: 'plugin', names: [path] }
  }
}

/** Rows of a less specific option (`rateLimit` for `rateLimit.windowMs`), nearest first. */
function ancestorRows (scope: Scope, name: string): Row[] {
  const segments = name.replace(/^resources\.\*\./, 'resources.').split('.')
  for (let n = segments.length - 1; n > 0; n--) {
    const found = rows.filter((row) => row.scope === scope && row.name === segments.slice(0, n).join('.'))
    if (found.length > 0) return found
  }
  return []
}

const TRUE_WORDS = /`true`|\btrue\b|\bon\b|\benabled\b/i
const FALSE_WORDS = /`false`|\bfalse\b|\boff\b|\bdisabled\b/i
const NONE_WORDS = /none|—|-|off|unlimited|anyone|every|all|app logger|no /i

function showsNumber (text: string, n: number): boolean {
  return new RegExp(`(?<![\\w.])${n}(?![\\w.])`).test(text.replace(/`/g, ' '))
}

/**
 * Whether documentation text states `value`. Numbers and strings must appear; a boolean must not
 * be contradicted (a cell may say "off in the plugin, on in WebSocketPlugin"); `null` ("none",
 * "unlimited", …) and non-empty lists are only required to be documented.
 */
function states (text: string, value: unknown, row?: Row): boolean {
  if (isDerived(value)) return (row?.text ?? text).replace(/`/g, '').includes(value.docs)
  if (typeof value === 'number') return showsNumber(text, value)
  if (typeof value === 'string') {
    if (value === '') return text.includes("''")
    return text.includes(`'${value}'`) || text.includes(`\`${value}\``) || text.split(/[\s,;()]+/).includes(value)
  }
  if (typeof value === 'boolean') {
    const right = value ? TRUE_WORDS : FALSE_WORDS
    const wrong = value ? FALSE_WORDS : TRUE_WORDS
    return right.test(text) || !wrong.test(text)
  }
  if (Array.isArray(value) && value.length === 0) return text.includes('[]') || NONE_WORDS.test(text)
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0) return text.includes('{}') || NONE_WORDS.test(text)
  return true
}

t.test('the option tables were found', async (t) => {
  t.ok(rows.filter((row) => row.scope === 'plugin').length >= 40, 'plugin option rows')
  t.ok(rows.some((row) => row.scope === 'compat' && row.name === 'port'), 'the WebSocketPlugin table')
  t.ok(rows.some((row) => row.scope === 'cli' && row.name === 'shutdownDelay'), 'the CLI table')
  t.notOk(rows.some((row) => row.name === 'reconnect'), 'the client table is not read as the plugin\'s')
})

t.test('every documented default is the one in DEFAULTS', async (t) => {
  const wrong: string[] = []
  for (const leaf of allLeaves) {
    const { scope, names } = docNames(leaf.path)
    for (const row of rows.filter((r) => r.scope === scope && names.includes(r.name))) {
      const ok = isDerived(leaf.value) ? states(row.text, leaf.value, row) : states(row.cell, leaf.value)
      if (!ok) wrong.push(`${row.file}:${row.line} ${row.name}: documented "${row.cell}", DEFAULTS.${leaf.path} is ${isDerived(leaf.value) ? leaf.value.docs : JSON.stringify(leaf.value)}`)
    }
  }
  t.same(wrong, [], 'rows whose default differs from the code')
})

t.test('every default in DEFAULTS is documented', async (t) => {
  const missing: string[] = []
  const wrong: string[] = []
  for (const leaf of allLeaves) {
    const { scope, names } = docNames(leaf.path)
    if (rows.some((r) => r.scope === scope && names.includes(r.name))) continue
    // Documented on a group row (`rateLimit` | `{ enabled, windowMs, … }` | off; `60000`, …), or
    // for WebSocketPlugin on the plugin's row: the row names the key and states its number.
    const group = ancestorRows(scope, names[0] as string)
    const fallback = group.length > 0 ? group : scope === 'compat' ? rows.filter((r) => r.scope === 'plugin' && r.name === names[0]) : []
    if (fallback.length === 0) { missing.push(`DEFAULTS.${leaf.path} (documented as ${names.join(' or ')})`); continue }
    const key = leaf.path.split('.').at(-1) as string
    const stated = (row: Row): boolean => new RegExp(`\\b${key}\\b`).test(row.text) &&
      (typeof leaf.value === 'number' ? showsNumber(row.cell, leaf.value) : isDerived(leaf.value) ? states(row.text, leaf.value, row) : true)
    if (!fallback.some(stated)) wrong.push(`${fallback.map((row) => `${row.file}:${row.line}`).join(', ')} ${names[0] as string}: no row names ${key} with DEFAULTS.${leaf.path} = ${isDerived(leaf.value) ? leaf.value.docs : JSON.stringify(leaf.value)}`)
  }
  t.same(missing, [], 'defaults no table documents')
  t.same(wrong, [], 'group rows that do not state the default')
})

// The option types' own `@default` tags: which DEFAULTS group each interface documents.
const TYPE_GROUPS: Readonly<Record<string, string>> = {
  RealtimeOptions: 'core',
  ClusterOptions: 'core',
  PublisherOptions: 'core',
  ResourceOptions: 'resource',
  AuthOptions: 'auth',
  JwtDriverConfig: 'authDriver',
  OidcDriverConfig: 'authDriver',
  TicketOptions: 'tickets',
  CorsOptions: 'cors',
  MessageRateLimitOptions: 'rateLimit',
  ConnectionRateLimitOptions: 'connectionRateLimit',
  ChannelsOptions: 'channels',
  RedisOption: 'redis',
  HealthOptions: 'health',
  ReadinessCheck: 'readinessCheck',
  MetricsOptions: 'metrics',
  BackpressureOptions: 'backpressure',
  CompressionOptions: 'compression',
  AsyncApiRouteOptions: 'asyncapi',
  WebSocketPluginOptions: 'compat',
  CliConfig: 'cli'
}

interface DefaultTag { readonly where: string, readonly path: string, readonly text: string }

function tagsOf (file: string): DefaultTag[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
  const found: DefaultTag[] = []
  const members = (node: ts.TypeNode | undefined, path: string, owner: string): void => {
    if (node === undefined) return
    if (ts.isUnionTypeNode(node)) { for (const type of node.types) members(type, path, owner); return }
    if (!ts.isTypeLiteralNode(node)) return
    for (const member of node.members) visit(member, path, owner)
  }
  const visit = (member: ts.TypeElement, path: string, owner: string): void => {
    if (!ts.isPropertySignature(member) || member.name === undefined) return
    const name = member.name.getText(source)
    const full = `${path}.${name}`
    for (const tag of ts.getJSDocTags(member)) {
      if (tag.tagName.text !== 'default') continue
      const { line } = source.getLineAndCharacterOfPosition(tag.getStart(source))
      found.push({ where: `${file.slice(ROOT.length + 1)}:${line + 1} ${owner}.${name}`, path: full, text: ts.getTextOfJSDocComment(tag.comment) ?? '' })
    }
    members(member.type, full, owner)
  }
  for (const statement of source.statements) {
    if (ts.isInterfaceDeclaration(statement) && TYPE_GROUPS[statement.name.text] !== undefined) {
      for (const member of statement.members) visit(member, TYPE_GROUPS[statement.name.text] as string, statement.name.text)
    }
    if (ts.isTypeAliasDeclaration(statement) && TYPE_GROUPS[statement.name.text] !== undefined) {
      members(statement.type, TYPE_GROUPS[statement.name.text] as string, statement.name.text)
    }
  }
  return found
}

function valueAt (path: string): { found: boolean, value: unknown } {
  let value: unknown = DEFAULTS
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || !(key in value)) return { found: false, value: undefined }
    value = (value as Record<string, unknown>)[key]
  }
  return { found: true, value }
}

t.test('every @default of the option types is the one in DEFAULTS', async (t) => {
  const optionsDir = join(ROOT, 'src/options')
  const files = [
    ...readdirSync(optionsDir).filter((f) => f.endsWith('.ts')).map((f) => join(optionsDir, f)),
    join(ROOT, 'src/compat/websocket-plugin.ts'),
    join(ROOT, 'src/bin/config.ts')
  ]
  const tags = files.flatMap(tagsOf)
  t.ok(tags.length >= 60, `the @default tags were read (${tags.length})`)
  const problems: string[] = []
  for (const tag of tags) {
    const { found, value } = valueAt(tag.path)
    if (!found) problems.push(`${tag.where}: @default ${tag.text} but DEFAULTS.${tag.path} does not exist`)
    else if (!states(tag.text, value)) problems.push(`${tag.where}: @default ${tag.text} but DEFAULTS.${tag.path} is ${isDerived(value) ? value.docs : JSON.stringify(value)}`)
  }
  t.same(problems, [], '@default tags that differ from DEFAULTS')
})

t.test('the comparison catches a wrong default', async (t) => {
  // Guards against a check that cannot fail.
  t.notOk(states('`25000`', 30_000))
  t.notOk(states("`'/ws'`", '/'))
  t.notOk(states('`false`', true))
  t.notOk(states("`${path}/tix`", DEFAULTS.tickets.routePath))
  t.ok(states('`4194304` (4 MiB)', 4_194_304))
  t.ok(states('off in the plugin, on in `WebSocketPlugin`/CLI', true))
})
