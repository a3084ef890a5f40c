/**
 * Resolves with `work`'s result, or rejects with `message` after `ms`. `work` runs inside the
 * race, so a synchronous throw is caught like a rejection; the timer never outlives the race.
 *
 * The timeout is only declared after the event loop's next I/O poll: a process that was busy
 * (a large fan-out) when the timer came due may have the answer waiting, unread, in a socket.
 * Timers run before the poll phase and immediates after it, so the answer, if it is there, wins.
 */
export async function withTimeout<T> (work: () => T | Promise<T>, ms: number, message = `timed out after ${ms}ms`): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  let afterPoll: NodeJS.Immediate | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { afterPoll = setImmediate(() => { reject(new Error(message)) }) }, ms)
  })
  try {
    return await Promise.race([Promise.resolve().then(work), timeout])
  } finally {
    clearTimeout(timer)
    if (afterPoll !== undefined) clearImmediate(afterPoll)
  }
}
