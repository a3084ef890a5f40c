import { RealtimeError } from './errors.js'
import type { ServerFrame } from './types.js'

interface Pending {
  type: string
  /** Written to a socket: if that socket drops, the outcome is unknown. */
  sent: boolean
  /** Runs synchronously when the reply frame is read, before later frames are handled. */
  onReply: ((frame: ServerFrame) => void) | undefined
  resolve: (frame: ServerFrame) => void
  reject: (error: RealtimeError) => void
  timer: ReturnType<typeof setTimeout>
}

/**
 * Requests waiting for their reply, keyed by requestId. Every request has a timer from the
 * moment it is made (also while it waits for the connection), so no promise stays pending
 * forever; a reply after the timeout is dropped (its id is no longer here).
 */
export class PendingRequests {
  private readonly pending = new Map<string, Pending>()
  private next = 1

  create (type: string, timeoutMs: number, onReply?: (frame: ServerFrame) => void): { requestId: string, reply: Promise<ServerFrame> } {
    const requestId = `r${this.next++}`
    const reply = new Promise<ServerFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId)
        reject(new RealtimeError('TIMEOUT', `No reply to "${type}" within ${timeoutMs} ms`, undefined, requestId))
      }, timeoutMs)
      this.pending.set(requestId, { type, sent: false, onReply, resolve, reject, timer })
    })
    return { requestId, reply }
  }

  /** Still waiting (not timed out, not answered)? */
  has (requestId: string): boolean {
    return this.pending.has(requestId)
  }

  markSent (requestId: string): void {
    const pending = this.pending.get(requestId)
    if (pending !== undefined) pending.sent = true
  }

  /** Settles the request a reply belongs to; false when the frame is not a reply we wait for. */
  resolveFrame (frame: ServerFrame): boolean {
    const requestId = frame.requestId
    if (typeof requestId !== 'string') return false
    const pending = this.pending.get(requestId)
    if (pending === undefined) return false
    this.pending.delete(requestId)
    clearTimeout(pending.timer)
    if (frame.type === 'error') {
      pending.reject(RealtimeError.fromFrame(frame))
      return true
    }
    // A promise continuation would run only after every frame already buffered on the socket;
    // a subscription must be live before the replayed events right behind its reply.
    pending.onReply?.(frame)
    pending.resolve(frame)
    return true
  }

  reject (requestId: string, error: RealtimeError): void {
    const pending = this.pending.get(requestId)
    if (pending === undefined) return
    this.pending.delete(requestId)
    clearTimeout(pending.timer)
    pending.reject(error)
  }

  /** Rejects the requests already sent (`sentOnly`) or all of them. */
  rejectAll (code: string, message: string, sentOnly: boolean): void {
    for (const [requestId, pending] of [...this.pending]) {
      if (sentOnly && !pending.sent) continue
      this.reject(requestId, new RealtimeError(code, `${message} ("${pending.type}")`, undefined, requestId))
    }
  }
}
