import type { FastifyInstance } from 'fastify'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { InvalidOptionError } from '../errors.js'
import type { LocalHub } from '../hub/local-hub.js'
import type { RejectionCounts } from './limits.js'
import type { ResolvedMetrics } from '../options/operations.js'

type Labels = Record<string, string | number>
type Sample = [Labels, number]

const TYPE_PREFIX = '{"type":"'
const CODE = /"code":"([A-Z0-9_]{1,48})"/

function bump (map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by)
}

function samples (map: Map<string, number>, label: string): Sample[] {
  return [...map].map(([key, value]) => [{ [label]: key }, value])
}

/**
 * Prometheus metrics for one plugin instance. The hot paths (every frame in and out) only bump
 * plain counters in Maps; prom-client objects are filled from them at scrape time, so a fan-out
 * to thousands of sockets does no label hashing per recipient.
 */
export class RealtimeMetrics {
  readonly registry: Registry
  private readonly received = new Map<string, number>()
  private readonly sentByType = new Map<string, number>()
  private readonly errorsByCode = new Map<string, number>()
  private readonly disconnectsByCode = new Map<string, number>()
  private readonly names: string[] = []
  // Fan-out sends one string object to many sockets: remember its type instead of re-reading it.
  private lastFrame: string | null = null
  private lastType = ''
  private readonly latency: Histogram

  constructor (options: ResolvedMetrics, hub: LocalHub, rejected: RejectionCounts) {
    this.registry = options.registry ?? new Registry()
    this.connectionMetrics(options.prefix, hub, rejected)
    this.trafficMetrics(options.prefix, hub)
    this.latency = new Histogram({
      name: `${options.prefix}delivery_latency_seconds`,
      help: 'Time from the s3db change event to the write on the subscribers\' sockets',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: []
    })
    this.register(this.latency)

    hub.signals.on('disconnected', (_connection, code) => { bump(this.disconnectsByCode, String(code)) })
    hub.signals.on('delivered', (event, sent) => {
      if (sent > 0) this.latency.observe(Math.max(0, Date.now() - Date.parse(event.timestamp)) / 1000)
    })
  }

  private connectionMetrics (p: string, hub: LocalHub, rejected: RejectionCounts): void {
    const counts = hub.counters
    this.gauge(`${p}connections`, 'Open WebSocket connections', [], () => [[{}, hub.connections.size]])
    this.counter(`${p}connects_total`, 'WebSocket connections accepted', [], () => [[{}, counts.connections]])
    this.counter(`${p}disconnects_total`, 'WebSocket connections closed, by close code', ['code'], () => samples(this.disconnectsByCode, 'code'))
    this.counter(`${p}connections_rejected_total`, 'Upgrades refused with 503, by reason', ['reason'], () =>
      Object.entries(rejected).map(([reason, n]): Sample => [{ reason }, n]))
    this.gauge(`${p}subscriptions`, 'Active subscriptions, by resource', ['resource'], () =>
      [...hub.indexes].map(([resource, index]): Sample => [{ resource }, index.size]))
    this.gauge(`${p}subscriptions_scanned`, 'Subscriptions in the scan bucket (a filter with no equality or $in condition: checked against every event of the resource), by resource', ['resource'], () =>
      [...hub.indexes].map(([resource, index]): Sample => [{ resource }, index.scanned]))
    this.counter(`${p}send_dropped_total`, 'Frames dropped by the backpressure drop policy', [], () => [[{}, counts.messagesDropped]])
    this.counter(`${p}slow_consumer_closes_total`, 'Sockets closed with 1013 by the backpressure close policy', [], () => [[{}, counts.slowConsumerCloses]])
  }

  private trafficMetrics (p: string, hub: LocalHub): void {
    const counts = hub.counters
    this.counter(`${p}messages_received_total`, 'Client messages received, by type (unknown: unregistered type; invalid: not a JSON object)', ['type'], () => {
      let known = 0
      for (const n of this.received.values()) known += n
      return [...samples(this.received, 'type'), [{ type: 'invalid' }, Math.max(0, counts.messagesReceived - known)]]
    })
    this.counter(`${p}messages_sent_total`, 'Frames written to sockets, by type', ['type'], () => samples(this.sentByType, 'type'))
    this.counter(`${p}errors_total`, 'Error frames sent to clients, by code', ['code'], () => samples(this.errorsByCode, 'code'))
    this.counter(`${p}events_total`, 'Resource change events fanned out', [], () => [[{}, counts.events]])
    this.counter(`${p}fanout_candidates_total`, 'Subscriptions examined by event fan-out (after the index lookup)', [], () => [[{}, hub.fanOutStats.candidates]])
    this.counter(`${p}fanout_deliveries_total`, 'Event frames delivered by fan-out (matches)', [], () => [[{}, hub.fanOutStats.deliveries]])
    this.counter(`${p}broadcasts_total`, 'broadcast/broadcastToResource calls', [], () => [[{}, counts.broadcasts]])
    this.counter(`${p}bus_errors_total`, 'Bus publish/subscribe failures', [], () => [[{}, counts.busErrors]])
  }

  /** A dispatcher pre-handler: counts each message by its (registered) type. */
  readonly onReceived = (_connection: unknown, type: string): void => { bump(this.received, type) }

  /** Sees every frame written (SendHooks.sent). */
  readonly onSent = (frame: string): void => {
    let type: string
    if (frame === this.lastFrame) {
      type = this.lastType
    } else {
      const end = frame.startsWith(TYPE_PREFIX) ? frame.indexOf('"', TYPE_PREFIX.length) : -1
      type = end > 0 && end < 80 ? frame.slice(TYPE_PREFIX.length, end) : 'other'
      this.lastFrame = frame
      this.lastType = type
    }
    bump(this.sentByType, type)
    if (type === 'error') bump(this.errorsByCode, CODE.exec(frame.slice(0, 120))?.[1] ?? 'UNKNOWN')
  }

  /** Removes this instance's metrics from the registry (the app's registry outlives the plugin). */
  unregister (): void {
    for (const name of this.names.splice(0)) this.registry.removeSingleMetric(name)
  }

  private register (metric: Counter | Gauge | Histogram): void {
    const name = (metric as unknown as { name: string }).name
    try {
      this.registry.registerMetric(metric)
    } catch (error) {
      throw new InvalidOptionError(`metrics: ${error instanceof Error ? error.message : String(error)} (set another metrics.prefix)`)
    }
    this.names.push(name)
  }

  /** Counters and gauges alike are read from the hub's counters at scrape time, never per message. */
  private counter (name: string, help: string, labelNames: string[], read: () => Sample[]): void {
    this.register(new Counter({ name, help, labelNames, registers: [], collect () { refill(this, read, (l, v) => { this.inc(l, v) }) } }))
  }

  private gauge (name: string, help: string, labelNames: string[], read: () => Sample[]): void {
    this.register(new Gauge({ name, help, labelNames, registers: [], collect () { refill(this, read, (l, v) => { this.set(l, v) }) } }))
  }
}

/** GET <metrics.path>: Prometheus text exposition of the registry (the app's, when given). */
export function registerMetricsRoute (fastify: FastifyInstance, metrics: RealtimeMetrics, options: ResolvedMetrics): void {
  const routeOptions = {
    logLevel: 'warn' as const,
    config: { public: options.public, s3dbRealtime: 'metrics' as const },
    ...(options.onRequest.length > 0 ? { onRequest: [...options.onRequest] } : {})
  }
  fastify.get(options.path, routeOptions, async (_request, reply) => {
    const body = await metrics.registry.metrics()
    return await reply.header('content-type', metrics.registry.contentType).header('cache-control', 'no-store').send(body)
  })
}

/** Replaces a metric's samples with what `read` reports now. */
function refill (metric: { reset: () => void }, read: () => Sample[], put: (labels: Sample[0], value: number) => void): void {
  metric.reset()
  for (const [labels, value] of read()) put(labels, value)
}
