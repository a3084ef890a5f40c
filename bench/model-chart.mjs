// The scaling model of docs/scaling.md "A million connections: the model", computed from its
// measured inputs (bench/model-inputs.json): the chart docs/model.svg and the doc's result rows.
// Usage: node bench/model-chart.mjs   (rewrites docs/model.svg, prints the rows for the doc)
// test/contract/model-chart.test.ts regenerates both in memory, so neither can drift from the inputs.
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const INPUTS_PATH = fileURLToPath(new URL('./model-inputs.json', import.meta.url))
export const CHART_PATH = fileURLToPath(new URL('../docs/model.svg', import.meta.url))

export const readInputs = () => JSON.parse(readFileSync(INPUTS_PATH, 'utf8'))

/**
 * The model for `shards` primaries and `instances` instances, changes spread evenly over the
 * primaries' resources and the instances' subscriber connections spread evenly over the
 * primaries. Per cluster-wide change, all primaries together spend: one append on the owner, one
 * forwarded PUBLISH received (cluster bus) by each other primary, one delivery per subscribed
 * instance; divided by `shards` that is one primary's share, and a primary's core saturates at
 * 1 s of it per second.
 */
export function modelAt (inputs, shards, instances) {
  const r = inputs.redis
  const cpuMicrosPerPrimary = (r.appendMicros + (shards - 1) * r.forwardMicrosPerOtherPrimary + instances * r.deliveryMicrosPerInstance) / shards
  const maxChangesPerSecond = 1e6 / cpuMicrosPerPrimary
  const outBytesPerPrimary = (r.appendReplyBytes + instances * r.deliveryBytesPerInstance + (shards - 1) * r.busBytesPerOtherPrimary) / shards
  const inBytesPerPrimary = (r.appendInBytes + (shards - 1) * r.busBytesPerOtherPrimary) / shards
  return {
    cpuMicrosPerPrimary,
    maxChangesPerSecond,
    // One hot resource: all its appends run on its primary, the other resources quiet.
    maxChangesPerSecondOneResource: 1e6 / (r.appendMicros + instances * r.deliveryMicrosPerInstance / shards),
    outMBPerSecondPerPrimary: maxChangesPerSecond * outBytesPerPrimary / 1e6,
    inMBPerSecondPerPrimary: maxChangesPerSecond * inBytesPerPrimary / 1e6
  }
}

/** However many primaries: each still receives every change (classic PUBLISH), at f µs each. */
export const forwardingCap = (inputs) => 1e6 / inputs.redis.forwardMicrosPerOtherPrimary

const thousands = (v) => Math.round(v).toLocaleString('en-US')
const hundreds = (v) => `~${thousands(Math.round(v / 100) * 100)}`

/** The rows of the doc's "what the model says" table, for 1,000,000 connections. */
export function modelRows (inputs) {
  const instances = inputs.connections / inputs.connectionsPerInstance
  const rows = inputs.chart.shards.map((shards) => {
    const m = modelAt(inputs, shards, instances)
    const gbit = (m.outMBPerSecondPerPrimary * 8 / 1000).toFixed(1)
    return `| ${shards} | ${instances} | ${m.cpuMicrosPerPrimary.toFixed(0)} µs | **${hundreds(m.maxChangesPerSecond)}** | ${hundreds(m.maxChangesPerSecondOneResource)} | ${thousands(m.outMBPerSecondPerPrimary)} MB/s (${gbit} Gbit/s) out, ${thousands(m.inMBPerSecondPerPrimary)} MB/s in |`
  })
  rows.push(`| more | ${instances} | → ${inputs.redis.forwardMicrosPerOtherPrimary} µs | < ${hundreds(forwardingCap(inputs))} | | |`)
  return rows
}

const COLORS = ['#6b7280', '#2563eb', '#d97706', '#10b981', '#9333ea']
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;')
const px = (v) => v.toFixed(1)

function niceStep (max, ticks) {
  const raw = max / ticks
  const power = 10 ** Math.floor(Math.log10(raw))
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((step) => step >= raw)
}

/**
 * One line panel: `series` [{label, color, points: [[x, y]], ranges?: [{x, low, high}]}] (ranges:
 * measured min–max, drawn as bars), dashed `guides` [{axis, value, label}], each series' value
 * marked where it crosses the `mark` x guide.
 */
function linePanel ({ title, unit, notes = [], series, guides, mark, xMax, top, width, height, format, markFormat = format }) {
  const left = 70
  const plotW = width - left - 150
  const plotH = height - 70
  const plotTop = top + 30
  const yTop = Math.max(...series.flatMap((s) => [...s.points.map(([, y]) => y), ...(s.ranges ?? []).map((r) => r.high)]), ...guides.filter((g) => g.axis === 'y').map((g) => g.value)) * 1.08
  const step = niceStep(yTop, 5)
  const yMax = Math.ceil(yTop / step) * step
  const x = (v) => left + (v / xMax) * plotW
  const y = (v) => plotTop + plotH - (v / yMax) * plotH
  const parts = [`<text x="${left}" y="${top + 18}" font-size="14" font-weight="bold">${esc(title)} (${esc(unit)})</text>`,
    ...notes.map((note, i) => `<text x="${left + plotW + 8}" y="${plotTop + 10 + i * 13}" font-size="10" fill="#555">${esc(note)}</text>`)]
  for (let v = 0; v <= yMax; v += step) {
    parts.push(`<line x1="${left}" y1="${px(y(v))}" x2="${left + plotW}" y2="${px(y(v))}" stroke="#e5e7eb"/>`,
      `<text x="${left - 6}" y="${px(y(v) + 4)}" font-size="10" text-anchor="end">${esc(format(v))}</text>`)
  }
  for (let v = 0; v <= xMax; v += 5) {
    parts.push(`<text x="${px(x(v))}" y="${plotTop + plotH + 14}" font-size="10" text-anchor="middle">${v}</text>`)
  }
  parts.push(`<line x1="${left}" y1="${plotTop + plotH}" x2="${left + plotW}" y2="${plotTop + plotH}" stroke="#999"/>`,
    `<text x="${left + plotW / 2}" y="${plotTop + plotH + 30}" font-size="11" text-anchor="middle">instances (each subscribed to every resource)</text>`)
  for (const guide of guides) {
    if (guide.axis === 'y') {
      parts.push(`<line x1="${left}" y1="${px(y(guide.value))}" x2="${left + plotW}" y2="${px(y(guide.value))}" stroke="#111" stroke-dasharray="5,4"/>`,
        `<text x="${left + 4}" y="${px(y(guide.value) - 4)}" font-size="10">${esc(guide.label)}</text>`)
    } else {
      parts.push(`<line x1="${px(x(guide.value))}" y1="${plotTop}" x2="${px(x(guide.value))}" y2="${plotTop + plotH}" stroke="#111" stroke-dasharray="2,3"/>`,
        `<text x="${px(x(guide.value) + 4)}" y="${plotTop + 10}" font-size="10">${esc(guide.label)}</text>`)
    }
  }
  for (const s of series) {
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.points.map(([a, b]) => `${px(x(a))},${px(y(b))}`).join(' ')}"/>`)
    const [lastX, lastY] = s.points[s.points.length - 1]
    parts.push(`<text x="${px(x(lastX) + 6)}" y="${px(y(lastY) + 4)}" font-size="11" fill="${s.color}">${esc(s.label)}</text>`)
    const marked = s.points.find(([a]) => a === mark)
    if (marked !== undefined) {
      parts.push(`<circle cx="${px(x(mark))}" cy="${px(y(marked[1]))}" r="3.5" fill="${s.color}"/>`,
        `<text x="${px(x(mark) - 6)}" y="${px(y(marked[1]) - 6)}" font-size="10" text-anchor="end" fill="${s.color}">${esc(markFormat(marked[1]))}</text>`)
    }
    for (const range of s.ranges ?? []) {
      const [cx, lo, hi] = [px(x(range.x)), px(y(range.low)), px(y(range.high))]
      parts.push(`<line x1="${cx}" y1="${lo}" x2="${cx}" y2="${hi}" stroke="${s.color}" stroke-width="7" stroke-opacity="0.6"/>`)
    }
  }
  return parts.join('\n')
}

function runsRange (inputs) {
  const runs = inputs.measured.map((run) => run.runs)
  const [low, high] = [Math.min(...runs), Math.max(...runs)]
  return low === high ? String(low) : `${low}–${high}`
}

/** docs/model.svg: sustainable change rate, and each primary's network output at that rate. */
export function modelChartSvg (inputs) {
  const width = 760
  const height = 300
  const xMax = inputs.chart.maxInstances
  const millionAt = inputs.connections / inputs.connectionsPerInstance
  const instances = Array.from({ length: xMax }, (_, i) => i + 1)
  const label = (shards) => shards === 1 ? '1 Redis primary' : `${shards}-primary cluster`
  const curves = (pick) => inputs.chart.shards.map((shards, i) => ({
    label: label(shards),
    color: COLORS[i % COLORS.length],
    points: instances.map((n) => [n, pick(modelAt(inputs, shards, n))])
  }))
  const connectionsGuide = { axis: 'x', value: millionAt, label: `${thousands(inputs.connections)} connections at ${thousands(inputs.connectionsPerInstance)} per instance` }
  // Measured: a primary's CPU per cluster-wide change, as the rate at which it would saturate.
  const rateSeries = curves((m) => m.maxChangesPerSecond).map((series, i) => ({
    ...series,
    ranges: inputs.measured
      .filter((run) => run.shards === inputs.chart.shards[i] && run.cpuMicrosPerPrimary !== undefined)
      .map((run) => ({ x: run.instances, low: 1e6 / run.cpuMicrosPerPrimary[1], high: 1e6 / run.cpuMicrosPerPrimary[0] }))
  }))
  const rate = linePanel({
    title: 'Cluster-wide changes/s at which a primary\'s core saturates',
    unit: 'changes/s',
    notes: ['lines: the model', 'bars: measured,', `min–max of ${runsRange(inputs)} runs`, 'and every primary'],
    series: rateSeries,
    guides: [{ axis: 'y', value: forwardingCap(inputs), label: 'cap for any number of primaries: each receives every change (classic PUBLISH)' }, connectionsGuide],
    mark: millionAt, xMax, top: 0, width, height, format: (v) => thousands(v), markFormat: hundreds
  })
  const network = linePanel({
    title: 'Each primary\'s network output at that rate',
    unit: 'MB/s',
    series: curves((m) => m.outMBPerSecondPerPrimary),
    guides: [{ axis: 'y', value: 125, label: '1 Gbit/s' }, connectionsGuide],
    mark: millionAt, xMax, top: height, width, height, format: (v) => thousands(v)
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${2 * height + 20}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
${rate}
${network}
<text x="${width - 10}" y="${2 * height + 12}" font-size="9" text-anchor="end" fill="#555">model: bench/model-chart.mjs, inputs: bench/model-inputs.json (measured with bench/redis-cost.mjs)</text>
</svg>
`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const inputs = readInputs()
  writeFileSync(CHART_PATH, modelChartSvg(inputs))
  console.log(`wrote ${CHART_PATH}\n`)
  console.log(modelRows(inputs).join('\n'))
}
