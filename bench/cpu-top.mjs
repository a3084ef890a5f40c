// Profiling aid: the hottest functions (self time) of a V8 .cpuprofile, e.g. one written by
// `BENCH_CPU_PROF=1 npm run bench:quick`. Usage: node bench/cpu-top.mjs file.cpuprofile [N=30]
import fs from 'node:fs'

const [file, top = '30'] = process.argv.slice(2)
const profile = JSON.parse(fs.readFileSync(file, 'utf8'))
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map()
const dt = profile.timeDeltas
profile.samples.forEach((id, i) => {
  const f = byId.get(id).callFrame
  const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(src|dist)\//, '$1/')}:${f.lineNumber + 1}`
  self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0))
})
const total = [...self.values()].reduce((a, b) => a + b, 0)
for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
  console.log(`${(100 * us / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`)
}
