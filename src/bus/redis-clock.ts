import { busClock } from './types.js'

/**
 * Turns append deadlines (on this process's `busClock()`) into Redis time, where the append
 * script checks them. The offset between the two clocks is taken from Redis' replies (TIME, and
 * the time every append script returns) as a lower bound: Redis read its clock somewhere between
 * the send and the moment the reply is read here, so Redis time minus "now" can only be too low.
 * A deadline converted with it is never later than the writer's own; a reply read late (a busy
 * event loop) only moves deadlines earlier, which is safe.
 */
export class RedisClock {
  /** Redis time minus `busClock()`, ms; null until first measured. */
  private offset: number | null = null

  /** `readTime`: one round trip to the Redis whose clock this is (TIME: seconds, microseconds). */
  constructor (private readonly readTime: () => Promise<Array<string | number>>) {}

  /** Reads Redis' clock (one round trip). */
  async measure (): Promise<void> {
    const [seconds, micros] = await this.readTime()
    this.observe(seconds ?? 0, micros ?? 0)
  }

  /** Takes a Redis time reply (seconds, microseconds) read just now. */
  observe (seconds: string | number, micros: string | number): void {
    this.offset = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - busClock()
  }

  /** `deadline` on Redis' clock, rounded down: a little early, never late. */
  async toRedis (deadline: number): Promise<number> {
    if (this.offset === null) await this.measure()
    return Math.floor(deadline + (this.offset ?? 0)) - 1
  }
}
