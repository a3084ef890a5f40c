import { connect, createServer, type Server, type Socket } from 'node:net'
import type { Test } from 'tap'

/**
 * A TCP relay in front of one port (e.g. redis-server), so a test can cut one process off from
 * it while everything else keeps going: `cut()` closes every relayed connection and closes new
 * ones on arrival (the client sees its connection drop and keeps retrying), `heal()` lets new
 * connections through again. Closed at teardown. (Plain closes, not resetAndDestroy: a reset
 * socket sometimes left the test process spinning at exit, in Node's handle cleanup.)
 */
export class TcpProxy {
  private readonly pairs = new Set<[Socket, Socket]>()
  private cutOff = false
  private closed = false

  private constructor (private readonly server: Server, readonly port: number) {}

  static async start (t: Test, targetPort: number): Promise<TcpProxy> {
    const server = createServer()
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => { resolve((server.address() as { port: number }).port) })
    })
    server.unref()
    const proxy = new TcpProxy(server, port)
    server.on('connection', (socket) => { proxy.relay(socket, targetPort) })
    t.teardown(async () => { await proxy.close() })
    return proxy
  }

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  cut (): void {
    this.cutOff = true
    for (const [a, b] of this.pairs) {
      a.destroy()
      b.destroy()
    }
    this.pairs.clear()
  }

  heal (): void {
    this.cutOff = false
  }

  private relay (socket: Socket, targetPort: number): void {
    if (this.cutOff || this.closed) {
      socket.destroy()
      return
    }
    const upstream = connect(targetPort, '127.0.0.1')
    const pair: [Socket, Socket] = [socket, upstream]
    // The relay never keeps the test process alive (a connect to a frozen peer can hang for minutes).
    socket.unref()
    upstream.unref()
    this.pairs.add(pair)
    const drop = (): void => {
      this.pairs.delete(pair)
      socket.destroy()
      upstream.destroy()
    }
    for (const end of pair) {
      end.on('error', drop)
      end.on('close', drop)
    }
    socket.pipe(upstream)
    upstream.pipe(socket)
  }

  /** Drops every connection and stops listening; never waits on a peer (a frozen one would hold it). */
  private async close (): Promise<void> {
    this.closed = true
    this.cut()
    await new Promise<void>((resolve) => { this.server.close(() => { resolve() }) })
  }
}
