/**
 * Resolves with `work`'s result, or rejects with `message` after `ms`. `work` runs inside the
 * race, so a synchronous throw is caught like a rejection; the timer never outlives the race.
 */
export async function withTimeout<T> (work: () => T | Promise<T>, ms: number, message = `timed out after ${ms}ms`): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(message)) }, ms)
  })
  try {
    return await Promise.race([Promise.resolve().then(work), timeout])
  } finally {
    clearTimeout(timer)
  }
}
