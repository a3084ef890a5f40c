// Profiling aid: what a server retains per connection. Takes a heap snapshot of the system's
// server process at a baseline and after opening N more sockets, and lists the objects that
// are new in the second (by snapshot node id), grouped by type/name and by retainer chain.
// Usage: node bench/heap-diff.mjs <raw|realtime|bundled> [N=2000]
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawnProc } from './lib/procs.mjs'

const system = process.argv[2] ?? 'realtime'
const N = Number(process.argv[3] ?? 2000)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heapdiff-'))

function load (file) {
  const snap = JSON.parse(fs.readFileSync(file, 'utf8'))
  const meta = snap.snapshot.meta
  const nf = meta.node_fields.length
  const field = (name) => meta.node_fields.indexOf(name)
  return { snap, meta, nf, T: field('type'), NM: field('name'), ID: field('id'), S: field('self_size'), EC: field('edge_count') }
}

const server = await spawnProc('server.mjs', [system], ['--expose-gc'])
const client = await spawnProc('client.mjs')
const { url } = await server.rpc('info')
await client.rpc('connect', { url, from: 0, to: 100 })
const before = await server.rpc('snapshot', { path: path.join(dir, 'before.heapsnapshot') })
await client.rpc('connect', { url, from: 100, to: 100 + N })
const after = await server.rpc('snapshot', { path: path.join(dir, 'after.heapsnapshot') })
await Promise.all([server.stop(), client.stop()])

const b = load(before)
const old = new Set()
for (let i = 0; i < b.snap.nodes.length; i += b.nf) old.add(b.snap.nodes[i + b.ID])
const a = load(after)
const { snap, meta, nf } = a
const types = meta.node_types[0]
const etypes = meta.edge_types[0]
const ef = meta.edge_fields.length
const count = snap.nodes.length / nf
const parent = new Int32Array(count).fill(-1)
const via = new Array(count)
let e = 0
for (let n = 0; n < count; n++) {
  for (let k = 0; k < snap.nodes[n * nf + a.EC]; k++, e += ef) {
    const to = snap.edges[e + meta.edge_fields.indexOf('to_node')] / nf
    const et = etypes[snap.edges[e + meta.edge_fields.indexOf('type')]]
    if (et === 'weak' || et === 'shortcut' || parent[to] !== -1) continue
    parent[to] = n
    const nm = snap.edges[e + meta.edge_fields.indexOf('name_or_index')]
    via[to] = et === 'element' || et === 'hidden' ? `[${nm}]` : snap.strings[nm]
  }
}
const label = (n) => `${types[snap.nodes[n * nf + a.T]]}:${snap.strings[snap.nodes[n * nf + a.NM]].slice(0, 40)}`
const byName = new Map()
const byChain = new Map()
let total = 0
for (let n = 0; n < count; n++) {
  if (old.has(snap.nodes[n * nf + a.ID])) continue
  const size = snap.nodes[n * nf + a.S]
  total += size
  const name = label(n)
  const entry = byName.get(name) ?? [0, 0]
  entry[0]++
  entry[1] += size
  byName.set(name, entry)
  let chain = name
  for (let p = n, d = 0; d < 3 && parent[p] !== -1; d++, p = parent[p]) chain += ` <-${via[p]}- ${label(parent[p])}`
  byChain.set(chain, (byChain.get(chain) ?? 0) + size)
}
fs.rmSync(dir, { recursive: true, force: true })
console.log(`${system}: ${(total / N).toFixed(0)} bytes of new objects per connection (self sizes)`)
console.log('\nbytes/conn  objects/conn  type:name')
for (const [name, [c, s]] of [...byName].sort((x, y) => y[1][1] - x[1][1]).slice(0, 25)) console.log(`${(s / N).toFixed(0).padStart(10)}  ${(c / N).toFixed(2).padStart(12)}  ${name}`)
console.log('\nbytes/conn  retainer chain')
for (const [chain, s] of [...byChain].sort((x, y) => y[1] - x[1]).slice(0, 25)) console.log(`${(s / N).toFixed(0).padStart(10)}  ${chain}`)
