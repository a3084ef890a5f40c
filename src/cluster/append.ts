import { randomUUID } from 'node:crypto'
import type { Bus, Envelope } from '../bus/types.js'
import { withTimeout } from '../util/timeout.js'

/**
 * Numbers one change on the bus, retrying once under the same id when the reply did not come.
 *
 * A missing reply does not mean Redis missed the command: a process busy with a large fan-out
 * reads its socket late, after every timer (ours and ioredis' commandTimeout) has fired. Taking
 * that for an outage would deliver the change twice (locally, and through the log the other
 * nodes read). While the connection holds, the retry gets the entry Redis already made, or makes
 * it now; only a bus that is down or still silent counts as unreachable.
 */
export async function appendChange (bus: Bus, topic: string, payload: unknown, timeoutMs: number): Promise<Envelope> {
  const id = randomUUID()
  const attempt = async (): Promise<Envelope> =>
    await withTimeout(async () => await bus.append(topic, payload, { id }), timeoutMs, `no answer from the bus within ${timeoutMs}ms`)
  try {
    return await attempt()
  } catch (error) {
    if (!bus.healthy()) throw error
    return await attempt()
  }
}
