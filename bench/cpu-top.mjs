// Profiling aid: the hottest functions (self time) of a V8 .cpuprofile, e.g. one written by
// `BENCH_CPU_PROF=1 npm run bench:quick`. Usage: node bench/cpu-top.mjs file.cpuprofile [N=30] [filter]
// (filter: only functions whose location starts with it, e.g. dist/ for this package's own code;
// percentages stay of the whole profile).
import fs from 'node:fs'

const [file, top = '30', filter = ''] = process.argv.slice(2)
const profile = JSON.parse(fs.readFileSync(file, 'utf8'))
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map()
const dt = profile.timeDeltas
// timeDeltas[i] is the time before sample i, so sample i lasts until the next one (as DevTools
// counts it): charging dt[i] instead would bill an idle stretch to whatever ran after it.
profile.samples.forEach((id, i) => {
  const f = byId.get(id).callFrame
  const where = `${f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(src|dist)\//, '$1/')}:${f.lineNumber + 1}`
  if (!where.startsWith(filter)) return
  const key = `${f.functionName || '(anonymous)'} ${where}`
  self.set(key, (self.get(key) ?? 0) + (dt[i + 1] ?? 0))
})
const total = dt.slice(1).reduce((a, b) => a + b, 0)
for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
  console.log(`${(100 * us / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`)
}
