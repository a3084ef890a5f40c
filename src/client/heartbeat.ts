/**
 * Client-side liveness check. A socket whose peer vanished without closing (laptop sleep, a
 * network switch, a stuck proxy) can look open for minutes; an application-level ping that gets
 * no reply within the request timeout ends it, and the normal reconnect path takes over.
 */
export class ClientHeartbeat {
  private timer: ReturnType<typeof setInterval> | undefined

  constructor (
    private readonly interval: number,
    private readonly ping: () => Promise<unknown>,
    private readonly onDead: () => void
  ) {}

  start (): void {
    this.stop()
    if (this.interval === 0) return
    let inFlight = false
    this.timer = setInterval(() => {
      if (inFlight) return
      inFlight = true
      this.ping().then(() => { inFlight = false }, (error: unknown) => {
        inFlight = false
        // Only a missing reply means the peer is gone; a drop is already being handled.
        if ((error as { code?: unknown }).code === 'TIMEOUT') this.onDead()
      })
    }, this.interval)
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }
}
