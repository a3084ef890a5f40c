import { readFile } from 'node:fs/promises'
import t from 'tap'
import { CHART_PATH, modelAt, modelChartSvg, modelRows, readInputs, type ModelInputs } from '../../bench/model-chart.mjs'
import { ROOT } from '../helpers/readme.js'

/*
 * Issue #16 §4: the million-connection model is a table and a chart in docs/scaling.md, both
 * computed from the measured inputs in bench/model-inputs.json by bench/model-chart.mjs. Neither
 * may drift from the inputs: an edited input without a regenerated chart and doc, or a chart or
 * row edited by hand, fails here (regenerate with `node bench/model-chart.mjs`).
 */

const inputs = readInputs()

t.test('docs/model.svg is what the model draws from bench/model-inputs.json', async (t) => {
  t.equal(await readFile(CHART_PATH, 'utf8'), modelChartSvg(inputs), 'regenerate it with node bench/model-chart.mjs')
})

t.test('docs/scaling.md carries the result rows the model computes from the inputs', async (t) => {
  const doc = await readFile(`${ROOT}/docs/scaling.md`, 'utf8')
  for (const row of modelRows(inputs)) t.ok(doc.includes(row), `docs/scaling.md has the row ${row}`)
  t.ok(doc.includes('](model.svg)'), 'the section embeds the chart')
})

t.test('every per-unit cost shows in the chart or the rows (so an input edited alone fails above)', async (t) => {
  const drawn = (model: ModelInputs): string => modelChartSvg(model) + modelRows(model).join('\n')
  const now = drawn(inputs)
  for (const key of Object.keys(inputs.redis) as Array<keyof ModelInputs['redis']>) {
    const changed: ModelInputs = { ...inputs, redis: { ...inputs.redis, [key]: inputs.redis[key] * 1.5 } }
    t.not(drawn(changed), now, `redis.${key}`)
  }
  const measured: ModelInputs['measured'] = inputs.measured.map((run) => run.cpuMicrosPerPrimary === undefined
    ? run
    : { ...run, cpuMicrosPerPrimary: [run.cpuMicrosPerPrimary[0] * 1.5, run.cpuMicrosPerPrimary[1]] })
  t.not(modelChartSvg({ ...inputs, measured }), modelChartSvg(inputs), 'the measured bars')
})

t.test('the model: one primary carries every change; more primaries share the appends, not the forwarding', async (t) => {
  const r = inputs.redis
  const one = modelAt(inputs, 1, 20)
  t.equal(one.cpuMicrosPerPrimary, r.appendMicros + 20 * r.deliveryMicrosPerInstance)
  const three = modelAt(inputs, 3, 20)
  t.equal(three.cpuMicrosPerPrimary, (r.appendMicros + 2 * r.forwardMicrosPerOtherPrimary + 20 * r.deliveryMicrosPerInstance) / 3)
  t.ok(modelAt(inputs, 1000, 20).maxChangesPerSecond < 1e6 / r.forwardMicrosPerOtherPrimary, 'no number of primaries passes the forwarding cap')
})
