import { WebSocket, type ClientOptions } from 'ws'

export type Message = Record<string, any>

/**
 * A test WebSocket client that keeps every frame it receives, so assertions can wait for the
 * next matching message without racing the socket.
 */
export class TestClient {
  readonly socket: WebSocket
  readonly received: Message[] = []
  private readonly waiters: Array<{ match: (m: Message) => boolean, resolve: (m: Message) => void, from: number }> = []
  private nextId = 1
  closeCode: number | null = null
  closeReason = ''
  readonly closed: Promise<{ code: number, reason: string }>

  constructor (url: string, options?: ClientOptions) {
    this.socket = new WebSocket(url, options)
    this.socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as Message
      this.received.push(message)
      for (const waiter of [...this.waiters]) {
        if (waiter.match(message)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1)
          waiter.resolve(message)
        }
      }
    })
    this.closed = new Promise((resolve) => {
      this.socket.on('close', (code, reason) => {
        this.closeCode = code
        this.closeReason = reason.toString()
        resolve({ code, reason: this.closeReason })
      })
    })
    this.socket.on('error', () => {})
  }

  /** Resolves with the first message (already received or future) that matches. */
  async waitFor (match: (m: Message) => boolean, timeoutMs = 5000): Promise<Message> {
    const found = this.received.find(match)
    if (found !== undefined) {
      this.received.splice(this.received.indexOf(found), 1)
      return found
    }
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for a message; received: ${JSON.stringify(this.received).slice(0, 500)}`)), timeoutMs)
      this.waiters.push({
        match,
        from: this.received.length,
        resolve: (m) => {
          clearTimeout(timer)
          this.received.splice(this.received.indexOf(m), 1)
          resolve(m)
        }
      })
    })
  }

  async waitType (type: string, timeoutMs?: number): Promise<Message> {
    return await this.waitFor((m) => m.type === type, timeoutMs)
  }

  send (message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message))
  }

  /** Sends with a fresh requestId and resolves with the reply carrying it. */
  async request (message: Message, timeoutMs?: number): Promise<Message> {
    const requestId = `r${this.nextId++}`
    this.send({ ...message, requestId })
    return await this.waitFor((m) => m.requestId === requestId, timeoutMs)
  }

  /** Messages of `type` received so far (without consuming them). */
  ofType (type: string): Message[] {
    return this.received.filter((m) => m.type === type)
  }

  close (): void {
    this.socket.close()
  }
}

/** Opens a client and waits for the server's `connected` message. */
export async function connect (url: string, options?: ClientOptions): Promise<{ client: TestClient, connected: Message }> {
  const client = new TestClient(url, options)
  const connected = await client.waitType('connected')
  return { client, connected }
}
