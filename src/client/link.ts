import { jwtExpiry, refreshDelay, replyExpiry, withCredential } from './auth.js'
import { backoffDelay } from './backoff.js'
import { Emitter, rethrowLater } from './emitter.js'
import { ClientHeartbeat } from './heartbeat.js'
import { authFailure, refusedStatus } from './refusal.js'
import { ClientErrorCodes, RealtimeError } from './errors.js'
import type { ResolvedClientOptions } from './options.js'
import { PendingRequests } from './requests.js'
import { defaultSocketFactory, frameText } from './socket.js'
import type { ConnectionState, PublishedMessage, ServerFrame, SocketFactory, SocketLike } from './types.js'

export interface LinkEvents {
  state: [ConnectionState]
  open: [{ clientId: string, user: unknown, reconnected: boolean }]
  reconnecting: [{ attempt: number, delay: number, code: number | null, reason: string }]
  closed: [{ code: number | null, reason: string }]
  authenticated: [{ user: unknown, expiresAt: number | null }]
  error: [RealtimeError]
  /** A `publish` from another client (delivered for resources you subscribe to). */
  message: [PublishedMessage]
}

/** What the link asks of the client above it. */
export interface LinkHooks {
  /** Runs on every new socket before it counts as open (re-subscribe, re-join). */
  restore: (reconnected: boolean) => Promise<void>
  /** The socket dropped (nothing is confirmed on the next one). */
  dropped: () => void
  /** A pushed frame (not a reply). */
  push: (frame: ServerFrame) => void
}

/** Replies to an in-band `auth` that no retry with the same credential can change. */
const AUTH_REFUSALS = new Set(['UNAUTHORIZED', 'FORBIDDEN', 'RATE_LIMIT_EXCEEDED'])

function toError (error: unknown, code: string = ClientErrorCodes.CONNECT_FAILED): RealtimeError {
  return error instanceof RealtimeError ? error : new RealtimeError(code, error instanceof Error ? error.message : String(error))
}

/**
 * One logical connection over a succession of sockets: opens, waits for `connected`, restores,
 * reconnects with jittered backoff, refreshes the token, and correlates requests with replies.
 */
export class Link {
  state: ConnectionState = 'idle'
  clientId: string | null = null
  user: unknown = null
  readonly events: Emitter<LinkEvents>
  private socket: SocketLike | null = null
  private opening: SocketLike | null = null
  private readonly pending = new PendingRequests()
  private waiters: Array<{ resolve: () => void, reject: (error: RealtimeError) => void }> = []
  private attempt = 0
  private everConnected = false
  private closing = false
  /** Bumped by connect()/close(): an attempt from an older generation must not open a socket. */
  private generation = 0
  private readonly heartbeat: ClientHeartbeat
  private token: string | null = null
  private factory: Promise<SocketFactory> | null = null
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined
  private connectTimer: ReturnType<typeof setTimeout> | undefined
  private refreshTimer: ReturnType<typeof setTimeout> | undefined
  /** Why the last socket failed, for errors that say more than "closed". */
  private lastFailure = ''
  /** Set by an auth failure: the link closes with it instead of reconnecting. */
  private authError: RealtimeError | null = null
  /** A provider's token the server refused, and why: offering it again would only be refused again. */
  private refused: { token: string, error: RealtimeError } | null = null

  constructor (private readonly options: ResolvedClientOptions, private readonly hooks: LinkHooks) {
    // A throwing `error` listener cannot be reported through `error` again (that would loop).
    this.events = new Emitter<LinkEvents>((error, event) => {
      if (event === 'error') rethrowLater(error)
      else this.events.emit('error', new RealtimeError('LISTENER_ERROR', String(error), error))
    })
    this.heartbeat = new ClientHeartbeat(options.heartbeatInterval, async () => await this.requestNow({ type: 'ping' }), () => {
      const socket = this.socket
      if (socket === null) return
      try { socket.close(4000, 'No pong') } catch {} // see close()
      this.dropped(socket, null, 'No reply to ping')
    })
  }

  /**
   * Starts connecting (if idle or closed); resolves once open. Rejects with the server's code
   * (UNAUTHORIZED, FORBIDDEN) when it refuses the credentials, when it ends closed, or with
   * CONNECT_FAILED after `timeoutMs` (the link keeps retrying by its reconnect policy; `close()`
   * stops it).
   */
  async connect (timeoutMs: number = this.options.connectTimeout): Promise<void> {
    if (this.state === 'idle' || this.state === 'closed') {
      this.closing = false
      this.attempt = 0
      this.authError = null
      this.refused = null
      this.lastFailure = ''
      this.generation++
      void this.open()
    }
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const why = this.lastFailure === '' ? '' : ` (last attempt: ${this.lastFailure})`
        reject(new RealtimeError(ClientErrorCodes.CONNECT_FAILED, `Could not connect within ${timeoutMs} ms${why}`, { url: this.options.url }))
      }, timeoutMs)
    })
    try {
      await Promise.race([this.whenOpen(), timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Resolves when the link is open; an idle link starts connecting. */
  async whenOpen (): Promise<void> {
    if (this.state === 'open') return
    if (this.state === 'idle') return await this.connect()
    if (this.state === 'closed') throw this.authError ?? new RealtimeError(ClientErrorCodes.CLIENT_CLOSED, 'The client is closed; call connect() again')
    await new Promise<void>((resolve, reject) => { this.waiters.push({ resolve, reject }) })
  }

  /** Sends when open (waiting through reconnects); the timeout counts from now. */
  async request (message: Record<string, unknown>): Promise<ServerFrame> {
    if (this.state === 'open' && this.socket !== null) return await this.requestNow(message)
    const { requestId, reply } = this.pending.create(String(message.type), this.options.requestTimeout)
    this.whenOpen().then(() => {
      if (this.pending.has(requestId)) this.write(requestId, message)
    }, (error: unknown) => { this.pending.reject(requestId, toError(error, ClientErrorCodes.CLIENT_CLOSED)) })
    return await reply
  }

  /** Sends on the current socket right away (restores use it before the link is open). */
  async requestNow (message: Record<string, unknown>, onReply?: (frame: ServerFrame) => void): Promise<ServerFrame> {
    if (this.socket === null) throw new RealtimeError(ClientErrorCodes.DISCONNECTED, `Not connected ("${String(message.type)}")`)
    const { requestId, reply } = this.pending.create(String(message.type), this.options.requestTimeout, onReply)
    this.write(requestId, message)
    return await reply
  }

  private write (requestId: string, message: Record<string, unknown>): void {
    const socket = this.socket
    if (socket === null) {
      this.pending.reject(requestId, new RealtimeError(ClientErrorCodes.DISCONNECTED, 'Not connected', undefined, requestId))
      return
    }
    try {
      socket.send(JSON.stringify({ ...message, requestId }))
      this.pending.markSent(requestId)
    } catch (error) {
      this.pending.reject(requestId, toError(error, ClientErrorCodes.DISCONNECTED))
    }
  }

  /** Closes for good (until `connect()`): pending and queued requests fail with CLIENT_CLOSED. */
  close (): void {
    this.closing = true
    this.generation++
    clearTimeout(this.reconnectTimer)
    const socket = this.socket ?? this.opening
    if (socket === null) {
      if (this.state !== 'closed' && this.state !== 'idle') this.finish(1000, 'Client closed')
      else this.state = 'closed'
      return
    }
    try { socket.close(1000, 'Client closed') } catch {} // a socket still connecting may refuse: it is dropped below either way
    this.dropped(socket, 1000, 'Client closed')
  }

  private setState (state: ConnectionState): void {
    if (this.state === state) return
    this.state = state
    this.events.emit('state', state)
  }

  private async open (): Promise<void> {
    const generation = this.generation
    this.setState(this.everConnected || this.attempt > 0 ? 'reconnecting' : 'connecting')
    let socket: SocketLike
    try {
      this.factory ??= this.options.socketFactory !== null ? Promise.resolve(this.options.socketFactory) : defaultSocketFactory()
      const factory = await this.factory
      const token = this.options.token === null ? null : await this.options.token()
      if (this.closing || generation !== this.generation) return
      if (token !== null && token === this.refused?.token) {
        this.fail(this.authError = this.refused.error, null, this.refused.error.message)
        return
      }
      this.token = token
      // In-band, the credential goes in the first message: never in a URL (logs, proxies, history).
      socket = factory(this.options.inBandAuth ? this.options.url : withCredential(this.options.url, this.options.credentialParam, token))
    } catch (error) {
      if (this.closing || generation !== this.generation) return
      this.events.emit('error', toError(error))
      this.retry(null, 'Could not open a socket')
      return
    }
    this.opening = socket
    this.connectTimer = setTimeout(() => {
      try { socket.close(4000, 'Connect timeout') } catch {} // see close()
      this.dropped(socket, null, 'Connect timeout')
    }, this.options.connectTimeout)
    socket.onmessage = (event) => { this.receive(socket, event.data) }
    socket.onclose = (event) => { this.dropped(socket, event.code, event.reason) }
    // A close event always follows, and that is where we act. `ws` (Node) says here why an
    // upgrade was refused ("Unexpected server response: 401"); browsers never tell.
    socket.onerror = (event) => {
      const message = (event as { message?: unknown } | null)?.message
      if (typeof message === 'string') this.lastFailure = message
      const status = refusedStatus(message)
      if (status === 401 || status === 403) {
        this.authError = new RealtimeError(status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', `The server refused the connection (HTTP ${status})`, { status })
      }
    }
  }

  private receive (socket: SocketLike, data: unknown): void {
    if (socket !== this.socket && socket !== this.opening) return
    let frame: ServerFrame
    try {
      const parsed: unknown = JSON.parse(frameText(data) ?? '')
      if (parsed === null || typeof parsed !== 'object' || typeof (parsed as { type?: unknown }).type !== 'string') throw new Error('no type')
      frame = parsed as ServerFrame
    } catch {
      this.events.emit('error', new RealtimeError(ClientErrorCodes.BAD_FRAME, 'The server sent a frame that is not a typed JSON object'))
      return
    }
    if (frame.type === 'connected' && socket === this.opening) {
      void this.connected(socket, frame)
      return
    }
    if (this.pending.resolveFrame(frame)) return
    // A pushed RESYNC_REQUIRED (slow consumer, cluster outage) is recoverable: the client resumes.
    if (frame.type === 'error' && frame.code !== 'RESYNC_REQUIRED') this.events.emit('error', RealtimeError.fromFrame(frame))
    else this.hooks.push(frame)
  }

  private async connected (socket: SocketLike, frame: ServerFrame): Promise<void> {
    clearTimeout(this.connectTimer)
    this.opening = null
    this.socket = socket
    this.clientId = typeof frame.clientId === 'string' ? frame.clientId : null
    this.user = frame.user ?? null
    if (this.options.inBandAuth && this.token !== null && !await this.authenticateInBand(socket, this.token)) return
    this.scheduleRefresh(this.token === null || this.options.credentialParam === 'ticket' ? null : jwtExpiry(this.token))
    const reconnected = this.everConnected
    this.everConnected = true
    try {
      await this.hooks.restore(reconnected)
    } catch (error) {
      if (this.socket !== socket) return // dropped mid-restore: the next socket restores again
      this.events.emit('error', toError(error))
    }
    if (this.socket !== socket) return
    // Reset only once fully open, so a server that accepts and drops at once still backs off.
    this.attempt = 0
    this.refused = null
    this.heartbeat.start()
    this.setState('open')
    for (const waiter of this.waiters.splice(0)) waiter.resolve()
    this.events.emit('open', { clientId: this.clientId ?? '', user: this.user, reconnected })
  }

  /**
   * Sends the credential as the first message. A refusal (UNAUTHORIZED, FORBIDDEN, too many
   * attempts) ends the link with that error: retrying the same credential cannot succeed.
   */
  private async authenticateInBand (socket: SocketLike, token: string): Promise<boolean> {
    try {
      const reply = await this.requestNow({ type: 'auth', [this.options.credentialParam]: token })
      if (this.socket !== socket) return false
      this.user = reply.user ?? null
      return true
    } catch (error) {
      if (this.socket !== socket) return false
      const refused = toError(error)
      if (refused.code === ClientErrorCodes.DISCONNECTED) return false // the close handler retries
      // A refusal is final; anything else (no reply in time) is worth another socket.
      if (AUTH_REFUSALS.has(refused.code)) this.authError = refused
      try { socket.close(4000, 'Authentication failed') } catch {} // see close()
      this.dropped(socket, null, refused.message)
      return false
    }
  }

  private dropped (socket: SocketLike, code: number | null, reason: string): void {
    if (socket === this.opening) this.opening = null
    else if (socket === this.socket) this.socket = null
    else return
    socket.onmessage = null
    socket.onclose = null
    this.heartbeat.stop()
    clearTimeout(this.connectTimer)
    clearTimeout(this.refreshTimer)
    this.pending.rejectAll(ClientErrorCodes.DISCONNECTED, 'Connection lost before the reply', true)
    this.hooks.dropped()
    if (reason !== '') this.lastFailure = code === null ? reason : `${code} ${reason}`
    this.authError ??= authFailure(code, reason, this.options.canRefresh)
    if (this.closing) this.finish(code, reason)
    else if (this.authError !== null && this.canRetryAuth()) this.retry(code, reason)
    else if (this.authError !== null) this.fail(this.authError, code, reason)
    else this.retry(code, reason)
  }

  /**
   * A token provider may hand out a fresher token (the refused one had just expired): one more
   * attempt is worth it, but only with a different token. The refusal is reported either way.
   */
  private canRetryAuth (): boolean {
    const error = this.authError
    if (error === null || !this.options.canRefresh || this.token === null) return false
    this.refused = { token: this.token, error }
    this.authError = null
    this.events.emit('error', error)
    return true
  }

  /** Ends the link on an auth failure: no retry, the code reaches connect(), requests and `error`. */
  private fail (error: RealtimeError, code: number | null, reason: string): void {
    this.events.emit('error', error)
    this.finish(code, reason)
  }

  private retry (code: number | null, reason: string): void {
    const policy = this.options.reconnect
    if (policy === null || this.attempt >= policy.maxAttempts) {
      this.finish(code, reason)
      return
    }
    const delay = backoffDelay(policy, this.attempt)
    this.attempt++
    this.setState('reconnecting')
    this.events.emit('reconnecting', { attempt: this.attempt, delay, code, reason })
    this.reconnectTimer = setTimeout(() => { void this.open() }, delay)
  }

  private finish (code: number | null, reason: string): void {
    this.closing = true
    this.heartbeat.stop()
    clearTimeout(this.reconnectTimer)
    clearTimeout(this.refreshTimer)
    this.pending.rejectAll(ClientErrorCodes.CLIENT_CLOSED, 'Client closed', false)
    const error = this.authError ?? new RealtimeError(ClientErrorCodes.CLIENT_CLOSED, `Connection closed: ${reason === '' ? this.lastFailure || 'no reason given' : reason}`)
    for (const waiter of this.waiters.splice(0)) waiter.reject(error)
    this.setState('closed')
    this.events.emit('closed', { code, reason })
  }

  private scheduleRefresh (expiresAt: number | null): void {
    clearTimeout(this.refreshTimer)
    if (expiresAt === null || !this.options.canRefresh) return
    this.refreshTimer = setTimeout(() => { void this.refresh() }, refreshDelay(expiresAt, this.options.refreshBeforeExpiry))
  }

  /** Swaps the token on the live socket (`{type:'auth'}`) before the server would close it. */
  private async refresh (): Promise<void> {
    const socket = this.socket
    if (socket === null || this.options.token === null) return
    try {
      const token = await this.options.token()
      // The same token cannot extend anything; the server's 4001 close then triggers a reconnect.
      if (token === null || token === this.token || this.socket !== socket) return
      const reply = await this.requestNow({ type: 'auth', token })
      this.token = token
      if (reply.user !== undefined) this.user = reply.user
      const expiresAt = replyExpiry(reply.expiresAt) ?? jwtExpiry(token)
      this.scheduleRefresh(expiresAt)
      this.events.emit('authenticated', { user: this.user, expiresAt })
    } catch (error) {
      this.events.emit('error', toError(error, 'UNAUTHORIZED'))
    }
  }
}
