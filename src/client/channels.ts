import { Emitter } from './emitter.js'
import { ClientErrorCodes, RealtimeError } from './errors.js'
import type { ChannelMessage, Member, ServerFrame } from './types.js'

/** What a channel needs from the client that owns it. */
export interface ChannelHost {
  /** Sends on the current socket now (used by re-join, which runs before queued requests). */
  requestNow: (message: Record<string, unknown>) => Promise<ServerFrame>
  /** Sends when the connection is open (queued while reconnecting). */
  request: (message: Record<string, unknown>) => Promise<ServerFrame>
  forget: (name: string, channel: object) => void
}

export interface ChannelEvents<U extends object> {
  member_joined: [Member<U>]
  member_left: [Member<U>]
  member_updated: [Member<U>]
  message: [ChannelMessage]
  /** Large presence channels send counts instead of per-member events. */
  count: [{ count: number, joined?: number, left?: number }]
  /** The member list was replaced (after a re-join). */
  sync: [Member<U>[]]
  /** The server removed this client from the channel (`reason`: e.g. 'FORBIDDEN' after a token refresh). */
  left: [{ reason: string }]
}

function isMember<U extends object> (value: unknown): value is Member<U> {
  return value !== null && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string'
}

/**
 * A joined channel. It survives reconnects: the client joins again with the latest userInfo,
 * and the member list is reconciled so the app sees joins and leaves that happened meanwhile.
 */
export class Channel<U extends object = Record<string, unknown>> {
  readonly name: string
  channelType: string | null = null
  /** Current members by member id (presence channels; small ones list every member). */
  readonly membersById = new Map<string, Member<U>>()
  me: Member<U> | null = null
  memberCount: number | null = null
  left = false
  /** Joined once: from then on every reconnect re-joins it. */
  confirmed = false
  /** Settles when the first join does (a second `join()` of the same name waits on it). */
  joined: Promise<void> = Promise.resolve()
  private readonly emitter: Emitter<ChannelEvents<U>>

  constructor (name: string, private userInfo: U | undefined, private readonly host: ChannelHost, onListenerError: (error: unknown) => void) {
    this.name = name
    this.emitter = new Emitter<ChannelEvents<U>>(onListenerError)
  }

  get members (): Member<U>[] {
    return [...this.membersById.values()]
  }

  on<K extends keyof ChannelEvents<U>> (event: K, listener: (...args: ChannelEvents<U>[K]) => void): () => void {
    return this.emitter.on(event, listener)
  }

  /** Joins on the current socket; on a re-join, emits the membership changes that were missed. */
  async join (rejoin: boolean): Promise<void> {
    const message: Record<string, unknown> = { type: 'join', channel: this.name }
    if (this.userInfo !== undefined) message.userInfo = this.userInfo
    const reply = await this.host.requestNow(message)
    this.channelType = typeof reply.channelType === 'string' ? reply.channelType : null
    this.memberCount = typeof reply.memberCount === 'number' ? reply.memberCount : null
    if (isMember<U>(reply.me)) this.me = reply.me
    if (!Array.isArray(reply.members)) return
    const next = new Map<string, Member<U>>()
    for (const member of reply.members) if (isMember<U>(member)) next.set(member.id, member)
    const before = new Map(this.membersById)
    this.membersById.clear()
    for (const [id, member] of next) this.membersById.set(id, member)
    if (!rejoin) return
    for (const [id, member] of before) if (!next.has(id)) this.emitter.emit('member_left', member)
    for (const [id, member] of next) if (!before.has(id)) this.emitter.emit('member_joined', member)
    this.emitter.emit('sync', this.members)
  }

  /** Sends `channel:message` to the other members; resolves with how many sockets got it. */
  async send (event: string, data?: unknown): Promise<number> {
    this.assertJoined()
    const reply = await this.host.request({ type: 'channel:message', channel: this.name, event, data })
    return typeof reply.delivered === 'number' ? reply.delivered : 0
  }

  /** Merges `userInfo` into this member (presence channels); kept for re-joins. */
  async update (userInfo: Partial<U>): Promise<Member<U> | null> {
    this.assertJoined()
    this.userInfo = { ...(this.userInfo ?? {}), ...userInfo } as U
    const reply = await this.host.request({ type: 'channel:update', channel: this.name, userInfo })
    if (isMember<U>(reply.member)) {
      this.me = reply.member
      this.membersById.set(reply.member.id, reply.member)
      return reply.member
    }
    return null
  }

  async leave (): Promise<void> {
    if (this.left) return
    this.left = true
    this.host.forget(this.name, this)
    try {
      await this.host.request({ type: 'leave', channel: this.name })
    } catch (error) {
      // Not in the channel any more (the socket dropped) is what leaving wanted anyway.
      if (!(error instanceof RealtimeError) || (error.code !== 'NOT_IN_CHANNEL' && error.code !== ClientErrorCodes.DISCONNECTED)) throw error
    } finally {
      this.emitter.removeAll()
    }
  }

  /** The server ended the membership: no more frames, no re-join, listeners are told once. */
  removed (reason: string): void {
    if (this.left) return
    this.left = true
    this.emitter.emit('left', { reason })
    this.emitter.removeAll()
  }

  /** Pushed frames for this channel. */
  handleFrame (frame: ServerFrame): void {
    if (this.left) return
    switch (frame.type) {
      case 'channel:message':
        this.emitter.emit('message', {
          channel: this.name,
          event: typeof frame.event === 'string' ? frame.event : 'message',
          data: frame.data,
          from: frame.from,
          timestamp: typeof frame.timestamp === 'string' ? frame.timestamp : ''
        })
        return
      case 'presence:member_joined':
      case 'presence:member_updated':
        if (!isMember<U>(frame.member)) return
        if (frame.type === 'presence:member_joined' && !this.membersById.has(frame.member.id) && this.memberCount !== null) this.memberCount++
        this.membersById.set(frame.member.id, frame.member)
        this.emitter.emit(frame.type === 'presence:member_joined' ? 'member_joined' : 'member_updated', frame.member)
        return
      case 'presence:member_left':
        if (!isMember<U>(frame.member)) return
        if (this.membersById.delete(frame.member.id) && this.memberCount !== null) this.memberCount--
        this.emitter.emit('member_left', frame.member)
        return
      case 'presence:count':
        if (typeof frame.count !== 'number') return
        this.memberCount = frame.count
        this.emitter.emit('count', {
          count: frame.count,
          ...(typeof frame.joined === 'number' ? { joined: frame.joined } : {}),
          ...(typeof frame.left === 'number' ? { left: frame.left } : {})
        })
    }
  }

  private assertJoined (): void {
    if (this.left) throw new RealtimeError('NOT_IN_CHANNEL', `Channel "${this.name}" was left`)
  }
}
