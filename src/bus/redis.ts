import { createHash, randomUUID } from 'node:crypto'
import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis'
import { RedisClock } from './redis-clock.js'
import { redisKeys, type RedisKeys } from './redis-keys.js'
import { APPEND_SCRIPT, PUBLISH_SCRIPT, READ_SCRIPT, UNLOCK_SCRIPT } from './redis-scripts.js'
import { APPEND_ID_TTL_MS, AppendRefusedError, safeDeliver, silentLogger, type AppendOptions, type Bus, type BusLogger, type Envelope, type EnvelopeHandler, type LogHead, type LogRead, type Unsubscribe } from './types.js'

/** A connection to one Redis, or to a Redis Cluster. */
export type RedisClient = Redis | Cluster

export interface RedisBusOptions {
  /** A redis:// URL; the bus creates (and later closes) its two connections. */
  url?: string
  /**
   * Seed nodes of a Redis Cluster (redis:// URLs or { host, port }); the bus creates (and later
   * closes) two cluster connections and spreads resources' logs over the shards.
   */
  nodes?: ClusterNode[]
  /** A caller-owned ioredis client (Redis or Cluster) for commands; never closed by the bus. */
  client?: RedisClient
  /** A caller-owned client for SUBSCRIBE; when absent the bus duplicates `client` (and closes the copy). */
  subscriber?: RedisClient
  /** Prefix of every key and channel, so several apps can share one Redis. @default 's3db-realtime' */
  prefix?: string
  nodeId?: string
  /** Entries kept per log topic (Redis Stream MAXLEN). @default 1000 */
  historySize?: number
  /** Timeout of each command on connections the bus creates, ms. @default 2000 */
  commandTimeout?: number
  log?: BusLogger
}

/** seq (0: refused past its deadline), epoch, Redis' clock when the script ran (seconds, microseconds). */
type ScriptReply = [number, string, string, string]

type ReadReply = [string, number, Array<[string, string[]]>, number]

const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex')
const APPEND_SHA = sha1(APPEND_SCRIPT)
const READ_SHA = sha1(READ_SCRIPT)
const UNLOCK_SHA = sha1(UNLOCK_SCRIPT)
const PUBLISH_SHA = sha1(PUBLISH_SCRIPT)
/** How ioredis refuses a command it did not send (no connection, offline queue off): one Redis, a cluster. */
const NOT_SENT = ["Stream isn't writeable", "Cluster isn't ready"]
const TIME_SCRIPT = "return redis.call('TIME')"
/** Pause before re-subscribing again after a failed attempt on a live connection, ms. */
const RESUBSCRIBE_RETRY_MS = 1000

/**
 * The Redis bus: pub/sub for messages, one Lua script per log append (INCR + XADD + PUBLISH) so
 * seq order is the delivery order on every node, and Redis Streams for bounded history.
 */
export class RedisBus implements Bus {
  readonly kind = 'redis'
  readonly nodeId: string
  private readonly client: RedisClient
  private readonly subscriber: RedisClient
  private readonly owned: RedisClient[] = []
  private readonly keys: RedisKeys
  private readonly seedNodes: ClusterNode[] | undefined
  /** Sharded: topics already in the registry (see `RedisKeys.topics`). */
  private readonly registered = new Set<string>()
  private readonly historySize: number
  private readonly log: BusLogger
  private readonly handlers = new Map<string, Set<EnvelopeHandler>>()
  private readonly healthListeners = new Set<(healthy: boolean) => void>()
  private readonly detach: Array<() => void> = []
  private lastHealthy = false
  private closed = false
  /**
   * False from the moment the subscriber connection drops until every channel's SUBSCRIBE is
   * answered again: a reconnected subscriber misses what is published before that, so the bus
   * is not healthy (and nobody reads the log to catch up) until then.
   */
  private subscriptionsActive = false
  private subscribeRound = 0
  private resubscribeTimer: NodeJS.Timeout | null = null
  /** Append deadlines in Redis time (sharded: one clock per topic, read on its shard). */
  private readonly clock: RedisClock
  private readonly topicClocks = new Map<string, RedisClock>()

  constructor (options: RedisBusOptions) {
    this.nodeId = options.nodeId ?? randomUUID()
    this.seedNodes = options.nodes
    this.historySize = options.historySize ?? 1000
    this.log = options.log ?? silentLogger
    // Our own connections fail fast while Redis is away instead of queueing: the caller then
    // serves local clients without waiting (see the cluster coordinator).
    const ours: RedisOptions = { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: options.commandTimeout ?? 2000 }
    if (options.client !== undefined) {
      this.client = options.client
    } else if (options.url !== undefined) {
      this.client = new Redis(options.url, ours)
      this.owned.push(this.client)
    } else if (options.nodes !== undefined && options.nodes.length > 0) {
      this.client = new Cluster(options.nodes, clusterOptions(ours))
      this.owned.push(this.client)
    } else {
      throw new TypeError('RedisBus needs a url, cluster nodes or a client')
    }
    if (options.subscriber !== undefined) {
      this.subscriber = options.subscriber
    } else {
      const client = this.client
      this.subscriber = client instanceof Cluster
        ? client.duplicate([], { ...clusterOptions(ours), enableOfflineQueue: true })
        : client.duplicate({ ...ours, enableOfflineQueue: true })
      this.owned.push(this.subscriber)
    }
    this.keys = redisKeys(options.prefix ?? 's3db-realtime', this.client.isCluster)
    this.clock = new RedisClock(async () => await this.client.time())
    this.watchSubscriptions()
    this.watch(this.client)
    this.watch(this.subscriber)
    const onMessage = (channel: string, message: string): void => { this.onMessage(channel, message) }
    this.subscriber.on('message', onMessage)
    this.detach.push(() => { this.subscriber.removeListener('message', onMessage) })
  }

  async start (): Promise<void> {
    try {
      await Promise.all([connect(this.client), connect(this.subscriber)])
    } catch (error) {
      // Fail fast at startup with a message that says what was being reached.
      throw new Error(`s3db-realtime: cannot reach Redis at ${describe(this.client, this.seedNodes)}: ${(error as Error).message}`, { cause: error })
    }
    // Loaded up front (on every primary of a cluster) so the first append is one round trip
    // (EVALSHA still falls back to EVAL after a Redis restart or on a new primary).
    const servers = this.client instanceof Cluster ? this.client.nodes('master') : [this.client]
    await Promise.all(servers.flatMap((server) => [server.script('LOAD', APPEND_SCRIPT), server.script('LOAD', READ_SCRIPT)]))
    // Measured now so the first append needs no extra round trip; a slow reply is no reason to
    // fail the start (the first append with a deadline measures it then).
    await this.clock.measure().catch((error: unknown) => { this.log.warn({ err: error }, 'realtime bus: could not read the Redis clock yet') })
    await this.confirmSubscriptions()
    this.updateHealth()
  }

  async publish (topic: string, payload: unknown): Promise<void> {
    const envelope: Envelope = { origin: this.nodeId, topic, payload: payload ?? null }
    if (this.keys.sharded) await this.script(PUBLISH_SHA, PUBLISH_SCRIPT, [this.keys.seq(topic), this.channel(topic), JSON.stringify(envelope)], 1)
    else await this.client.publish(this.channel(topic), JSON.stringify(envelope))
  }

  async subscribe (topic: string, handler: EnvelopeHandler): Promise<Unsubscribe> {
    const channel = this.channel(topic)
    let set = this.handlers.get(channel)
    if (set === undefined) {
      this.handlers.set(channel, set = new Set())
      await this.subscriber.subscribe(channel)
    }
    set.add(handler)
    return async () => {
      set.delete(handler)
      if (set.size === 0 && this.handlers.get(channel) === set) {
        this.handlers.delete(channel)
        if (!this.closed) await this.subscriber.unsubscribe(channel)
      }
    }
  }

  async append (topic: string, payload: unknown, options?: AppendOptions): Promise<Envelope> {
    if (this.client.status !== 'ready' && this.client.options.enableOfflineQueue === false) throw notSent()
    const clock = this.clockOf(topic)
    let deadline = ''
    try {
      if (options?.deadline !== undefined) deadline = String(await clock.toRedis(options.deadline))
      await this.register(topic)
    } catch (error) {
      throw notSent(error) // the clock (or the registry) could not be reached: the append itself was never sent
    }
    const keys = this.keys
    const args = [
      keys.epoch(topic), keys.seq(topic), keys.log(topic), keys.appended(topic, options?.id ?? randomUUID()), keys.renumbered(topic),
      randomUUID(), String(this.historySize), JSON.stringify(this.nodeId), JSON.stringify(topic),
      JSON.stringify(payload ?? null), keys.channel(topic), String(APPEND_ID_TTL_MS), deadline
    ]
    let reply: ScriptReply
    try {
      reply = await this.script<ScriptReply>(APPEND_SHA, APPEND_SCRIPT, args, 5)
    } catch (error) {
      throw error instanceof Error && NOT_SENT.some((text) => error.message.startsWith(text)) ? notSent(error) : error
    }
    const [seq, epoch, seconds, micros] = reply
    clock.observe(seconds, micros)
    if (Number(seq) === 0) throw new AppendRefusedError('deadline', 'the append reached Redis after its deadline; no entry was made')
    return { origin: this.nodeId, topic, payload: payload ?? null, seq: Number(seq), epoch }
  }

  async readLog (topic: string, afterSeq: number): Promise<LogRead> {
    const [epoch, seq, raw, renumbered] = await this.read(topic, `0-${afterSeq + 1}`)
    const head = logHead(epoch, seq, renumbered)
    if (afterSeq >= head.lastSeq) return { ...head, entries: [] }
    const entries = raw.map(([, fields]) => JSON.parse(fields[1] as string) as Envelope).filter((e) => (e.seq as number) <= head.lastSeq)
    const first = entries[0]
    if (first === undefined || (first.seq as number) > afterSeq + 1) return { ...head, entries: null }
    return { ...head, entries }
  }

  async head (topic: string): Promise<LogHead> {
    await this.register(topic)
    const [epoch, seq, , renumbered] = await this.read(topic, '')
    return logHead(epoch, seq, renumbered)
  }

  async stash (key: string, value: unknown, ttlMs: number): Promise<void> {
    await this.client.set(this.keys.stash(key), JSON.stringify(value ?? null), 'PX', ttlMs)
  }

  async stashedKeys (prefix: string, limit: number): Promise<string[]> {
    const namespace = this.keys.stash('')
    const pattern = escapeGlob(namespace + prefix) + '*'
    const keys = new Set<string>() // SCAN may return a key twice
    // A cluster's keys are spread over its primaries: each one is scanned.
    const servers = this.client instanceof Cluster ? this.client.nodes('master') : [this.client]
    for (const server of servers) {
      let cursor = '0'
      do {
        const [next, batch] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
        cursor = next
        for (const key of batch) if (keys.size < limit) keys.add(key.slice(namespace.length))
      } while (cursor !== '0' && keys.size < limit)
    }
    return [...keys]
  }

  async take (key: string): Promise<unknown> {
    const full = this.keys.stash(key)
    // GET + DEL in one transaction: of two nodes taking at once, one gets the value.
    const replies = await this.client.multi().get(full).del(full).exec()
    const [error, raw] = replies?.[0] ?? [null, null]
    if (error !== null) throw error
    return typeof raw === 'string' ? JSON.parse(raw) as unknown : null
  }

  async lock (key: string, ttlMs: number): Promise<string | null> {
    const token = randomUUID()
    const reply = await this.client.set(this.keys.lock(key), token, 'PX', ttlMs, 'NX')
    return reply === 'OK' ? token : null
  }

  async unlock (key: string, token: string): Promise<void> {
    await this.script<number>(UNLOCK_SHA, UNLOCK_SCRIPT, [this.keys.lock(key), token], 1)
  }

  async rotateEpoch (): Promise<string> {
    const epoch = randomUUID()
    // One transaction per epoch key: no reader sees the new epoch without the mark that
    // numbering was replaced. Sharded, every topic has its own; all get the same new one.
    const topics = this.keys.sharded ? new Set([...this.registered, ...await this.client.smembers(this.keys.topics)]) : ['']
    for (const topic of topics) {
      const replies = await this.client.multi().set(this.keys.epoch(topic), epoch).set(this.keys.renumbered(topic), '1').exec()
      const failed = replies?.find(([error]) => error !== null)
      if (failed !== undefined) throw failed[0] as Error
    }
    return epoch
  }

  healthy (): boolean {
    return !this.closed && this.client.status === 'ready' && this.subscriber.status === 'ready' && this.subscriptionsActive
  }

  onHealthChange (listener: (healthy: boolean) => void): () => void {
    this.healthListeners.add(listener)
    return () => { this.healthListeners.delete(listener) }
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.resubscribeTimer !== null) clearTimeout(this.resubscribeTimer)
    for (const detach of this.detach.splice(0)) detach()
    const channels = [...this.handlers.keys()]
    this.handlers.clear()
    // Caller-owned subscriber: leave it clean, but open.
    if (!this.owned.includes(this.subscriber) && channels.length > 0 && this.subscriber.status === 'ready') {
      await this.subscriber.unsubscribe(...channels)
    }
    await Promise.all(this.owned.map(async (client) => { await quit(client) }))
  }

  private async read (topic: string, fromId: string): Promise<ReadReply> {
    const keys = this.keys
    return await this.script<ReadReply>(READ_SHA, READ_SCRIPT, [keys.epoch(topic), keys.seq(topic), keys.log(topic), keys.renumbered(topic), randomUUID(), fromId], 4)
  }

  /**
   * Sharded: names `topic` in the registry (once per process) so a rotation finds its epoch.
   * Every node reads each resource's head when it starts, so every topic is in before use.
   */
  private async register (topic: string): Promise<void> {
    if (!this.keys.sharded || this.registered.has(topic)) return
    await this.client.sadd(this.keys.topics, topic)
    this.registered.add(topic)
  }

  /** The clock of the Redis that runs `topic`'s appends (sharded: its shard's, read there). */
  private clockOf (topic: string): RedisClock {
    if (!this.keys.sharded) return this.clock
    let clock = this.topicClocks.get(topic)
    if (clock === undefined) {
      const key = this.keys.seq(topic)
      clock = new RedisClock(async () => await this.client.eval(TIME_SCRIPT, 1, key) as string[])
      this.topicClocks.set(topic, clock)
    }
    return clock
  }

  /** EVALSHA, loading the script on NOSCRIPT (first use, or after Redis restarted). */
  private async script<T> (sha: string, source: string, args: string[], keys: number): Promise<T> {
    try {
      return await this.client.evalsha(sha, keys, ...args) as T
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes('NOSCRIPT')) throw error
      return await this.client.eval(source, keys, ...args) as T
    }
  }

  private onMessage (channel: string, message: string): void {
    const handlers = this.handlers.get(channel)
    if (handlers === undefined) return
    let envelope: Envelope
    try {
      envelope = JSON.parse(message) as Envelope
    } catch (error) {
      this.log.warn({ err: error, channel }, 'realtime bus: dropped a malformed message')
      return
    }
    for (const handler of [...handlers]) safeDeliver(handler, envelope, this.log)
  }

  /** Tracks whether the subscriber's channels are active (see `subscriptionsActive`). */
  private watchSubscriptions (): void {
    const down = (): void => {
      this.subscribeRound++
      this.subscriptionsActive = false
    }
    // ioredis re-subscribes on its own as the connection becomes ready and emits 'ready' a tick
    // later; a SUBSCRIBE of ours sent now is answered after its, so our reply proves both.
    const ready = (): void => { void this.confirmSubscriptions() }
    for (const event of ['close', 'end', 'reconnecting']) this.subscriber.on(event, down)
    this.subscriber.on('ready', ready)
    this.detach.push(() => {
      for (const event of ['close', 'end', 'reconnecting']) this.subscriber.removeListener(event, down)
      this.subscriber.removeListener('ready', ready)
    })
  }

  /** Subscribes every channel again and reports healthy once Redis confirmed them all. */
  private async confirmSubscriptions (): Promise<void> {
    const round = ++this.subscribeRound
    this.subscriptionsActive = false
    const channels = [...this.handlers.keys()]
    try {
      if (channels.length > 0) await this.subscriber.subscribe(...channels)
    } catch (error) {
      this.log.warn({ err: error }, 'realtime bus: re-subscribing failed; retrying')
      if (round === this.subscribeRound && !this.closed && this.subscriber.status === 'ready') {
        this.resubscribeTimer = setTimeout(() => {
          this.resubscribeTimer = null
          if (round === this.subscribeRound && !this.closed) void this.confirmSubscriptions()
        }, RESUBSCRIBE_RETRY_MS)
      }
      return
    }
    if (round !== this.subscribeRound || this.closed || this.subscriber.status !== 'ready') return
    this.subscriptionsActive = true
    this.updateHealth()
  }

  private watch (client: RedisClient): void {
    const update = (): void => { this.updateHealth() }
    const onError = (error: Error): void => { this.log.warn({ err: error }, 'realtime bus: redis connection error') }
    for (const event of ['ready', 'close', 'end', 'reconnecting']) client.on(event, update)
    client.on('error', onError)
    this.detach.push(() => {
      for (const event of ['ready', 'close', 'end', 'reconnecting']) client.removeListener(event, update)
      client.removeListener('error', onError)
    })
  }

  private updateHealth (): void {
    const healthy = this.healthy()
    if (healthy === this.lastHealthy) return
    this.lastHealthy = healthy
    for (const listener of [...this.healthListeners]) listener(healthy)
  }

  private channel (topic: string): string {
    return this.keys.channel(topic)
  }
}

function logHead (epoch: string, seq: number | string, renumbered: number): LogHead {
  return renumbered === 1 ? { epoch, lastSeq: Number(seq), renumbered: true } : { epoch, lastSeq: Number(seq) }
}

/** `text` matched literally by a Redis glob pattern (a prefix may contain `*`, `?`, `[`). */
function escapeGlob (text: string): string {
  return text.replace(/[*?[\]\\]/g, (char) => `\\${char}`)
}

function notSent (cause?: unknown): AppendRefusedError {
  return new AppendRefusedError('not-sent', 'Redis is not connected; the append was not sent', cause)
}

/**
 * A cluster connection with the same fail-fast stance as ours to one Redis: commands are refused
 * while the cluster is not ready (the shard connections themselves connect on first use).
 */
function clusterOptions (ours: RedisOptions): ClusterOptions {
  const { enableOfflineQueue, lazyConnect, ...perNode } = ours
  return { enableOfflineQueue, lazyConnect, redisOptions: perNode }
}

function describe (client: RedisClient, nodes: ClusterNode[] | undefined): string {
  if (client instanceof Cluster) return `the Redis Cluster ${nodes === undefined ? '(caller\'s client)' : JSON.stringify(nodes)}`
  return `${client.options.host ?? '?'}:${String(client.options.port ?? '?')}`
}

async function connect (client: RedisClient): Promise<void> {
  if (client.status === 'ready') return
  if (client.status === 'wait') {
    await client.connect()
    return
  }
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error): void => {
      client.removeListener('ready', onReady)
      client.removeListener('end', onEnd)
      if (error === undefined) resolve()
      else reject(error)
    }
    const onReady = (): void => { done() }
    const onEnd = (): void => { done(new Error('redis connection ended before it was ready')) }
    client.once('ready', onReady)
    client.once('end', onEnd)
  })
}

async function quit (client: RedisClient): Promise<void> {
  if (client.status === 'end' || client.status === 'wait') {
    client.disconnect()
    return
  }
  try {
    await client.quit()
  } catch {
    client.disconnect() // not connected right now: drop the socket and stop reconnecting
  }
}
