import { Registry } from 'prom-client'
import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { createDatabase } from '../helpers/db.js'
import { partsOf } from '../helpers/hub.js'

const httpBase = (url: string): string => url.replace(/^ws:/, 'http:').replace(/\/ws$/, '')

/** The value of one sample line, e.g. metric('x_total{type="ping"}'); null when absent. */
function sample (text: string, series: string): number | null {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1))
  }
  return null
}

t.test('GET /metrics exposes connections, messages, errors, subscriptions, fan-out and latency', async (t) => {
  const { url, client, db } = await buildApp(t, { metrics: true }) // opt-in in the Fastify plugin
  const a = await client()
  const b = await client()
  await a.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'general' } })
  await b.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'random' } })
  await a.request({ type: 'ping' })
  await a.request({ type: 'nope' })
  a.send('{not json')
  await a.waitFor((m) => m.code === 'INVALID_JSON')
  await db.resources.messages!.insert({ content: 'hi', channel: 'general' })
  await a.waitType('event')
  b.close()
  await b.closed

  const response = await fetch(`${httpBase(url)}/metrics`)
  t.equal(response.status, 200)
  t.match(response.headers.get('content-type'), /text\/plain/)
  const text = await response.text()
  t.equal(sample(text, 's3db_realtime_connections'), 1)
  t.equal(sample(text, 's3db_realtime_connects_total'), 2)
  t.equal(sample(text, 's3db_realtime_disconnects_total{code="1005"}') ?? sample(text, 's3db_realtime_disconnects_total{code="1000"}'), 1)
  t.equal(sample(text, 's3db_realtime_messages_received_total{type="subscribe"}'), 2)
  t.equal(sample(text, 's3db_realtime_messages_received_total{type="ping"}'), 1)
  t.equal(sample(text, 's3db_realtime_messages_received_total{type="unknown"}'), 1, 'an unregistered type')
  t.equal(sample(text, 's3db_realtime_messages_received_total{type="invalid"}'), 1, 'a frame that is not JSON')
  t.equal(sample(text, 's3db_realtime_messages_sent_total{type="connected"}'), 2)
  t.equal(sample(text, 's3db_realtime_messages_sent_total{type="event"}'), 1)
  t.equal(sample(text, 's3db_realtime_messages_sent_total{type="pong"}'), 1)
  t.equal(sample(text, 's3db_realtime_errors_total{code="UNKNOWN_MESSAGE_TYPE"}'), 1)
  t.equal(sample(text, 's3db_realtime_errors_total{code="INVALID_JSON"}'), 1)
  t.equal(sample(text, 's3db_realtime_subscriptions{resource="messages"}'), 1, 'b disconnected, its subscription is gone')
  t.equal(sample(text, 's3db_realtime_subscriptions{resource="users"}'), 0)
  t.equal(sample(text, 's3db_realtime_events_total'), 1)
  t.equal(sample(text, 's3db_realtime_fanout_candidates_total'), 1, 'the index found only the matching subscription')
  t.equal(sample(text, 's3db_realtime_fanout_deliveries_total'), 1)
  t.equal(sample(text, 's3db_realtime_delivery_latency_seconds_count'), 1)
  for (const name of ['send_dropped_total', 'slow_consumer_closes_total', 'bus_errors_total']) {
    t.equal(sample(text, `s3db_realtime_${name}`), 0, name)
  }
  t.equal(sample(text, 's3db_realtime_connections_rejected_total{reason="max_connections"}'), 0)
})

t.test("registers on the app's registry with a custom prefix and path; unregisters on close", async (t) => {
  const registry = new Registry()
  const db = await createDatabase(t)
  const { url, client, app } = await buildApp(t, { metrics: { registry, prefix: 'rt_', path: '/internal/metrics' } }, { db })
  await client()
  t.match(await registry.metrics(), /\nrt_connections 1\n/, 'visible through the app registry')
  const text = await (await fetch(`${httpBase(url)}/internal/metrics`)).text()
  t.equal(sample(text, 'rt_connections'), 1)
  t.equal((await fetch(`${httpBase(url)}/metrics`)).status, 404)
  t.equal(app.realtime.getMetrics().connections, 1, 'getMetrics() still answers as the seed documents')
  await app.close()
  t.notMatch(await registry.metrics(), /rt_connections/, 'metrics removed with the plugin')
})

t.test('a prefix clash on a shared registry is a coded option error', async (t) => {
  const registry = new Registry()
  const db = await createDatabase(t)
  await buildApp(t, { metrics: { registry } }, { db })
  await t.rejects(buildApp(t, { metrics: { registry } }, { db }), { code: 'S3DB_REALTIME_INVALID_OPTION' })
  await t.rejects(buildApp(t, { metrics: { prefix: 'bad prefix' } }, { db }), { code: 'S3DB_REALTIME_INVALID_OPTION' })
  await t.rejects(buildApp(t, { metrics: { registry: {} as never } }, { db }), { code: 'S3DB_REALTIME_INVALID_OPTION' })
})

t.test('metrics: false removes the route; bus errors counted when a bus increments them', async (t) => {
  const off = await buildApp(t, { metrics: false })
  t.equal((await fetch(`${httpBase(off.url)}/metrics`)).status, 404)

  const on = await buildApp(t, { metrics: true })
  partsOf(on.app).hub.counters.busErrors += 2
  const text = await (await fetch(`${httpBase(on.url)}/metrics`)).text()
  t.equal(sample(text, 's3db_realtime_bus_errors_total'), 2)
})
