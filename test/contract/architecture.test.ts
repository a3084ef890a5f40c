import t from 'tap'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { importCycles, importGraph } from '../helpers/imports.js'

// The layer order of docs/architecture.md, enforced on every import of src/ (type-only too).

const ROOT = resolve(import.meta.dirname, '../..')
const SRC = join(ROOT, 'src')

interface Room {
  level: number | null
  names: string[]
  allowed: Set<number>
}

/** Rows of the table in docs/architecture.md: `| level | \`room\`, … | job | may import |`. */
function readRooms (): Room[] {
  const text = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8')
  const rooms: Room[] = []
  for (const line of text.split('\n')) {
    const cells = line.split('|').slice(1, -1).map((cell) => cell.trim())
    if (cells.length !== 4 || !/^(\d+|—)$/.test(cells[0] as string)) continue
    const level = cells[0] === '—' ? null : Number(cells[0])
    const names = [...(cells[1] as string).matchAll(/`([^`]+)`/g)].map((m) => (m[1] as string).replace(/\/$/, ''))
    const rule = cells[3] as string
    const allowed = new Set<number>()
    const range = /levels (\d+)–(\d+)/.exec(rule)
    if (range !== null) for (let l = Number(range[1]); l <= Number(range[2]); l++) allowed.add(l)
    else if (rule === 'everything') for (let l = 0; l < 100; l++) allowed.add(l)
    else if (rule === '`util`') allowed.add(0)
    else if (!rule.startsWith('nothing')) throw new Error(`docs/architecture.md: cannot read the rule "${rule}"`)
    rooms.push({ level, names, allowed })
  }
  return rooms
}

const rooms = readRooms()
const roomOf = (file: string): Room | undefined => {
  const head = file.includes('/') ? file.slice(0, file.indexOf('/')) : file
  return rooms.find((room) => room.names.includes(head))
}
const label = (room: Room): string => room.names.join(', ')
const { files, edges } = importGraph(SRC)

t.test('the table covers every folder and root file of src/', async (t) => {
  t.ok(rooms.length >= 15, 'the table was read')
  const unplaced = files.filter((file) => roomOf(file) === undefined)
  t.same(unplaced, [], 'every source file is in a room of docs/architecture.md')
})

t.test('no import goes up (or sideways) the layer order', async (t) => {
  const violations: string[] = []
  for (const edge of edges) {
    const from = roomOf(edge.from)
    const to = roomOf(edge.to)
    if (from === undefined || to === undefined || from === to) continue
    if (to.level === null || !from.allowed.has(to.level)) violations.push(`${edge.from} -> ${edge.to}  (${label(from)} may not import ${label(to)})`)
  }
  t.same(violations, [], 'imports that break docs/architecture.md')
})

t.test('no import cycle between files', async (t) => {
  t.same(importCycles(files, edges).map((cycle) => cycle.join(' <-> ')), [])
})

t.test('each folder states its level in its README.md', async (t) => {
  const folders = readdirSync(SRC, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name)
  for (const folder of folders) {
    const room = rooms.find((r) => r.names.includes(folder))
    const readme = join(SRC, folder, 'README.md')
    if (!t.ok(existsSync(readme), `src/${folder}/README.md exists`) || room === undefined) continue
    const first = readFileSync(readme, 'utf8').split('\n').find((line) => line.trim() !== '') ?? ''
    const expected = room.level === null ? /imports nothing outside/i : new RegExp(`level ${room.level}\\b`, 'i')
    t.match(first, expected, `src/${folder}/README.md names its place in the order`)
  }
})

t.test('the rules catch what they are meant to catch', async (t) => {
  // A guard against a test that cannot fail: a made-up upward edge and a made-up cycle.
  const hub = roomOf('hub/local-hub.ts')
  const cluster = roomOf('cluster/coordinator.ts')
  t.ok(hub !== undefined && cluster !== undefined && cluster.level !== null && !hub.allowed.has(cluster.level), 'hub may not import cluster')
  t.same(importCycles(['a.ts', 'b.ts', 'c.ts'], [{ from: 'a.ts', to: 'b.ts' }, { from: 'b.ts', to: 'a.ts' }, { from: 'b.ts', to: 'c.ts' }]), [['a.ts', 'b.ts']])
})
