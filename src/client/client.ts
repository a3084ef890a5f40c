import { Channel, type ChannelHost } from './channels.js'
import { ClientErrorCodes, RealtimeError } from './errors.js'
import { Link, type LinkEvents } from './link.js'
import { resolveClientOptions, type ResolvedClientOptions } from './options.js'
import { ClientSubscription, type SubscriptionHost } from './subscriptions.js'
import type {
  BatchDeleteResult, BatchResult, ClientOptions, ConnectionState, FieldPath, Filter, ListOptions, Page, RecordData, RecordMap,
  ResourceName, ServerFrame, StoredRecord, SubscribeOptions, SubscriptionEvent, UpdateOptions, Versioned
} from './types.js'

export type ClientEvents = LinkEvents

function isDisconnect (error: unknown): boolean {
  return error instanceof RealtimeError && error.code === ClientErrorCodes.DISCONNECTED
}

/** A list request as sent: the filter was typed by the public method that took it. */
type PageRequest = Omit<ListOptions, 'filter' | 'fields'> & { filter?: object, fields?: readonly string[] }

/**
 * The s3db-realtime client. Typed by resource when given a record map:
 * `new RealtimeClient<{ messages: { content: string } }>({ url })`.
 */
export class RealtimeClient<R extends RecordMap = Record<string, RecordData>> {
  private readonly options: ResolvedClientOptions
  private readonly link: Link
  private readonly subscriptions = new Set<ClientSubscription<unknown>>()
  private readonly channels = new Map<string, Channel<object>>()
  private readonly subscriptionHost: SubscriptionHost
  private readonly channelHost: ChannelHost
  /** Re-list delays in progress: closing ends them (so no timer outlives the client). */
  private readonly relistWaits = new Set<() => void>()

  constructor (options: ClientOptions) {
    this.options = resolveClientOptions(options)
    this.link = new Link(this.options, {
      restore: async (reconnected) => { await this.restore(reconnected) },
      dropped: () => { for (const s of this.subscriptions) s.detach() },
      push: (frame) => { this.push(frame) }
    })
    this.subscriptionHost = {
      requestNow: async (message, onReply) => await this.link.requestNow(message, onReply),
      listAll: async (resource, filter, fields) => await this.collect(resource, { filter, limit: this.options.resyncPageSize, ...(fields === undefined ? {} : { fields }) }, true) as RecordData[],
      relistDelay: async () => { await this.relistDelay() }
    }
    this.channelHost = {
      requestNow: async (message) => await this.link.requestNow(message),
      request: async (message) => await this.link.request(message),
      forget: (name, channel) => { if (this.channels.get(name) === channel) this.channels.delete(name) }
    }
  }

  get state (): ConnectionState { return this.link.state }
  get clientId (): string | null { return this.link.clientId }
  /** The user the server authenticated (null when anonymous). */
  get user (): unknown { return this.link.user }

  /** Listens to connection events: state, open, reconnecting, closed, authenticated, error, message. */
  on<K extends keyof ClientEvents> (event: K, listener: (...args: ClientEvents[K]) => void): () => void {
    return this.link.events.on(event, listener)
  }

  /**
   * Opens the connection (requests also open it on first use). Rejects with the server's code
   * (UNAUTHORIZED, FORBIDDEN) when it refuses the credentials, and with CONNECT_FAILED when not
   * open within `timeoutMs` (the `connectTimeout` option by default); after a timeout the client
   * keeps retrying by its `reconnect` policy until `close()`.
   */
  async connect (options: { timeoutMs?: number } = {}): Promise<void> { await this.link.connect(options.timeoutMs) }

  /** Closes for good; pending requests fail with CLIENT_CLOSED. `connect()` starts over. */
  close (): void {
    this.link.close()
    for (const end of [...this.relistWaits]) end()
  }

  /** `fields`: only these fields (and id) are sent. */
  async get<K extends ResourceName<R>> (resource: K, id: string, options: { partition?: string, fields?: Array<FieldPath<StoredRecord<R, K>>> } = {}): Promise<StoredRecord<R, K>> {
    const reply = await this.link.request({ type: 'get', resource, id, ...options })
    return reply.data as StoredRecord<R, K>
  }

  /** `get`, with the record's version to pass as `ifVersion` to `update`. */
  async getWithVersion<K extends ResourceName<R>> (resource: K, id: string, options: { partition?: string, fields?: Array<FieldPath<StoredRecord<R, K>>> } = {}): Promise<Versioned<StoredRecord<R, K>>> {
    const reply = await this.link.request({ type: 'get', resource, id, ...options })
    return { data: reply.data as StoredRecord<R, K>, version: String(reply.version) }
  }

  /** One page; pass the returned cursor back for the next one. */
  async listPage<K extends ResourceName<R>> (resource: K, options: ListOptions<StoredRecord<R, K>> = {}): Promise<Page<StoredRecord<R, K>>> {
    return await this.page(resource, options, false)
  }

  /** Every page, lazily: `for await (const page of client.list('messages', { filter }))`. */
  async * list<K extends ResourceName<R>> (resource: K, options: ListOptions<StoredRecord<R, K>> = {}): AsyncGenerator<Page<StoredRecord<R, K>>, void, undefined> {
    let cursor = options.cursor ?? null
    do {
      const page: Page<StoredRecord<R, K>> = await this.page(resource, { ...options, cursor }, false)
      yield page
      cursor = page.cursor
    } while (cursor !== null)
  }

  /** Every matching record, all pages collected. */
  async listAll<K extends ResourceName<R>> (resource: K, options: ListOptions<StoredRecord<R, K>> = {}): Promise<Array<StoredRecord<R, K>>> {
    return await this.collect(resource, options, false) as Array<StoredRecord<R, K>>
  }

  async insert<K extends ResourceName<R>> (resource: K, data: R[K]): Promise<StoredRecord<R, K>> {
    const reply = await this.link.request({ type: 'insert', resource, data })
    return reply.data as StoredRecord<R, K>
  }

  /** With `ifVersion`: only if nobody wrote the record since that version; else a `ConflictError`. */
  async update<K extends ResourceName<R>> (resource: K, id: string, data: Partial<R[K]>, options: UpdateOptions = {}): Promise<StoredRecord<R, K>> {
    return (await this.updateWithVersion(resource, id, data, options)).data
  }

  /** `update`, resolving with the record's new version too (for the next `ifVersion`). */
  async updateWithVersion<K extends ResourceName<R>> (resource: K, id: string, data: Partial<R[K]>, options: UpdateOptions = {}): Promise<Versioned<StoredRecord<R, K>>> {
    const message: Record<string, unknown> = { type: 'update', resource, id, data }
    if (options.ifVersion !== undefined) message.ifVersion = options.ifVersion
    const reply = await this.link.request(message)
    return { data: reply.data as StoredRecord<R, K>, version: String(reply.version) }
  }

  async delete<K extends ResourceName<R>> (resource: K, id: string): Promise<void> {
    await this.link.request({ type: 'delete', resource, id })
  }

  /**
   * Inserts each item as `insert` would (same checks, one after the other, not atomic); resolves
   * with one result per item, in order. At most 100 items per call (the server's limit).
   */
  async insertMany<K extends ResourceName<R>> (resource: K, items: Array<R[K]>): Promise<Array<BatchResult<StoredRecord<R, K>>>> {
    const reply = await this.link.request({ type: 'insertMany', resource, data: items })
    return Array.isArray(reply.results) ? reply.results as Array<BatchResult<StoredRecord<R, K>>> : []
  }

  /** Deletes each id as `delete` would; one result per id, in order. At most 100 ids per call. */
  async deleteMany<K extends ResourceName<R>> (resource: K, ids: string[]): Promise<BatchDeleteResult[]> {
    const reply = await this.link.request({ type: 'deleteMany', resource, ids })
    return Array.isArray(reply.results) ? reply.results as BatchDeleteResult[] : []
  }

  /** Sends `message` to the other subscribers of `channel` (a resource name); resolves with how many got it. */
  async publish (channel: string, message: unknown): Promise<number> {
    const reply = await this.link.request({ type: 'publish', channel, message })
    return typeof reply.delivered === 'number' ? reply.delivered : 0
  }

  /**
   * Calls `handler` for every matching change, across reconnects, with no gap and no duplicate
   * (or a `snapshot` when the server cannot replay what was missed). Resolves, once the server
   * confirmed, with a function that unsubscribes.
   */
  async subscribe<K extends ResourceName<R>> (
    resource: K,
    options: SubscribeOptions<StoredRecord<R, K>>,
    handler: (event: SubscriptionEvent<StoredRecord<R, K>>) => void
  ): Promise<() => Promise<void>> {
    if (typeof handler !== 'function') throw new TypeError('subscribe needs a handler function')
    const subscription = new ClientSubscription(resource, (options.filter ?? {}) as Filter, options.events, handler, options.snapshot === true, (error) => { this.report(error) }, options.fields, options.delta === true)
    const erased = subscription as ClientSubscription<unknown>
    // In the set before the request: replayed events arrive right behind the reply.
    this.subscriptions.add(erased)
    try {
      await this.untilConfirmed(async () => { await subscription.start(this.subscriptionHost) })
    } catch (error) {
      this.subscriptions.delete(erased)
      subscription.removed = true
      throw error
    }
    subscription.confirmed = true
    return async () => { await this.unsubscribe(erased) }
  }

  /** Joins a channel (`presence-*` channels list members and announce joins and leaves). */
  async join<U extends object = Record<string, unknown>> (channel: string, userInfo?: U): Promise<Channel<U>> {
    const existing = this.channels.get(channel)
    if (existing !== undefined) {
      await existing.joined
      return existing as unknown as Channel<U>
    }
    const created = new Channel<U>(channel, userInfo, this.channelHost, (error) => { this.report(error) })
    const erased = created as unknown as Channel<object>
    // In the map before the request: presence frames can follow right behind the reply.
    this.channels.set(channel, erased)
    created.joined = this.untilConfirmed(async () => { await created.join(false) })
    try {
      await created.joined
    } catch (error) {
      if (this.channels.get(channel) === erased) this.channels.delete(channel)
      created.left = true
      throw error
    }
    created.confirmed = true
    return created
  }

  private report (error: unknown): void {
    // A throwing application handler surfaces here with the original error in `details`.
    this.link.events.emit('error', error instanceof RealtimeError ? error : new RealtimeError('LISTENER_ERROR', String(error), error))
  }

  /** Runs a first subscribe/join, retrying on the next socket when this one drops meanwhile. */
  private async untilConfirmed (attempt: () => Promise<void>): Promise<void> {
    for (;;) {
      await this.link.whenOpen()
      try {
        await attempt()
        return
      } catch (error) {
        if (!isDisconnect(error)) throw error
      }
    }
  }

  private async unsubscribe (subscription: ClientSubscription<unknown>): Promise<void> {
    if (subscription.removed) return
    subscription.removed = true
    subscription.active = false
    this.subscriptions.delete(subscription)
    const serverId = subscription.serverId
    // Identical subscriptions share one server subscription: keep it while another uses it.
    if (serverId === null || [...this.subscriptions].some((s) => s.serverId === serverId)) return
    try {
      await this.link.requestNow({ type: 'unsubscribe', subscriptionId: serverId })
    } catch (error) {
      if (!isDisconnect(error)) throw error // gone with the socket anyway
    }
  }

  private async page (resource: string, options: PageRequest, now: boolean): Promise<Page<never>> {
    const message: Record<string, unknown> = { type: 'list', resource }
    if (options.filter !== undefined) message.filter = options.filter
    if (options.partition !== undefined) message.partition = options.partition
    if (options.limit !== undefined) message.limit = options.limit
    if (options.cursor !== undefined && options.cursor !== null) message.cursor = options.cursor
    if (options.fields !== undefined) message.fields = options.fields
    const reply = now ? await this.link.requestNow(message) : await this.link.request(message)
    const versions = reply.versions !== null && typeof reply.versions === 'object' ? reply.versions as Record<string, string> : {}
    return { data: Array.isArray(reply.data) ? reply.data as never[] : [], versions, cursor: typeof reply.cursor === 'string' ? reply.cursor : null }
  }

  private async collect (resource: string, options: PageRequest, now: boolean): Promise<unknown[]> {
    const out: unknown[] = []
    let cursor = options.cursor ?? null
    do {
      const page = await this.page(resource, { ...options, cursor }, now)
      out.push(...page.data)
      cursor = page.cursor
    } while (cursor !== null)
    return out
  }

  /** A uniform random wait in [0, resyncJitter) ms (see the option); ended early by close(). */
  private async relistDelay (): Promise<void> {
    const ms = Math.floor(Math.random() * this.options.resyncJitter)
    if (ms === 0) return
    await new Promise<void>((resolve) => {
      const end = (): void => {
        clearTimeout(timer)
        this.relistWaits.delete(end)
        resolve()
      }
      const timer = setTimeout(end, ms)
      this.relistWaits.add(end)
    })
  }

  /** On every new socket: subscriptions first (resuming from their seq), then channels. */
  private async restore (reconnected: boolean): Promise<void> {
    if (!reconnected && this.subscriptions.size === 0 && this.channels.size === 0) return
    await Promise.all([...this.subscriptions].filter((s) => s.confirmed).map(async (subscription) => {
      try {
        await subscription.start(this.subscriptionHost)
      } catch (error) {
        if (isDisconnect(error)) throw error
        // The server now refuses it (roles changed, resource gone): tell the app, stop trying.
        this.subscriptions.delete(subscription)
        subscription.removed = true
        this.report(error)
      }
    }))
    await Promise.all([...this.channels.values()].filter((c) => c.confirmed).map(async (channel) => {
      try {
        await channel.join(true)
      } catch (error) {
        if (isDisconnect(error)) throw error
        this.channels.delete(channel.name)
        channel.left = true
        this.report(error)
      }
    }))
  }

  private push (frame: ServerFrame): void {
    if (frame.type === 'error') {
      this.recover(frame)
      return
    }
    if (frame.type === 'event') {
      this.dispatchEvent(frame)
      return
    }
    if (frame.type === 'message') {
      this.link.events.emit('message', {
        channel: String(frame.channel),
        data: frame.data,
        from: frame.from,
        timestamp: typeof frame.timestamp === 'string' ? frame.timestamp : ''
      })
      return
    }
    if (frame.type === 'unsubscribed') {
      this.dropRefused(frame)
      return
    }
    if (frame.type === 'channel:left') {
      this.dropChannel(frame)
      return
    }
    if (typeof frame.channel === 'string') this.channels.get(frame.channel)?.handleFrame(frame)
  }

  /**
   * Hands an event to the resource's subscriptions. A delta that no subscription holds the record
   * of (and none buffered) means the held copies are not the server's (a lost frame): the delta
   * subscriptions that lack it list again, so the application still sees whole, current records.
   */
  private dispatchEvent (frame: ServerFrame): void {
    const lacking: Array<ClientSubscription<unknown>> = []
    let held = false
    for (const subscription of this.subscriptions) {
      if (subscription.resource !== frame.resource) continue
      const verdict = subscription.handleEvent(frame)
      if (verdict === 'held') held = true
      else if (verdict === 'unknown') lacking.push(subscription)
    }
    if (held) return
    for (const subscription of lacking) {
      subscription.relist(this.subscriptionHost).catch((error: unknown) => { this.dropFailed(subscription, error) })
    }
  }

  /** A resume or re-list the server refused: the subscription ends and the application hears why. */
  private dropFailed (subscription: ClientSubscription<unknown>, error: unknown): void {
    if (isDisconnect(error)) return // the reconnect restores it
    this.subscriptions.delete(subscription)
    subscription.removed = true
    this.report(error)
  }

  /**
   * The server says events may have been lost (frames dropped for a slow reader, or a cluster
   * outage): each affected subscription resumes from its last seq on the same socket, or re-lists
   * when the server cannot replay. Application code still sees no gap and no duplicate.
   */
  private recover (frame: ServerFrame): void {
    const details = (frame.details ?? {}) as { resource?: unknown, subscriptions?: Array<{ subscriptionId?: unknown }> }
    const ids = Array.isArray(details.subscriptions) ? details.subscriptions.map((s) => s.subscriptionId) : null
    for (const subscription of [...this.subscriptions]) {
      if (!subscription.confirmed || subscription.removed) continue
      if (typeof details.resource === 'string' && details.resource !== subscription.resource) continue
      if (ids !== null && !ids.includes(subscription.serverId)) continue
      subscription.recover(this.subscriptionHost).catch((error: unknown) => {
        if (isDisconnect(error)) return // the reconnect restores it
        this.subscriptions.delete(subscription)
        subscription.removed = true
        this.report(error)
      })
    }
  }

  /** The server ended a subscription on its own (a refreshed token no longer allows it). */
  private dropRefused (frame: ServerFrame): void {
    const ids = Array.isArray(frame.subscriptionIds) ? frame.subscriptionIds : [frame.subscriptionId]
    for (const subscription of [...this.subscriptions]) {
      if (subscription.serverId === null || !ids.includes(subscription.serverId)) continue
      this.subscriptions.delete(subscription)
      subscription.removed = true
      subscription.active = false
      const code = typeof frame.reason === 'string' ? frame.reason : 'FORBIDDEN'
      this.report(new RealtimeError(code, `The server ended the subscription to "${subscription.resource}"`, { resource: subscription.resource, filter: subscription.filter }))
    }
  }

  /**
   * The server removed this socket from a channel on its own (a refreshed token no longer allows
   * it): the channel is not re-joined, its `left` listeners hear why, and `error` carries the code.
   */
  private dropChannel (frame: ServerFrame): void {
    const channel = typeof frame.channel === 'string' ? this.channels.get(frame.channel) : undefined
    if (channel === undefined) return
    this.channels.delete(channel.name)
    const code = typeof frame.reason === 'string' ? frame.reason : 'FORBIDDEN'
    channel.removed(code)
    this.report(new RealtimeError(code, `The server removed this client from channel "${channel.name}"`, { channel: channel.name }))
  }
}

/** `createClient<{ messages: Message }>({ url })`: the same as `new RealtimeClient(…)`. */
export function createClient<R extends RecordMap = Record<string, RecordData>> (options: ClientOptions): RealtimeClient<R> {
  return new RealtimeClient<R>(options)
}
