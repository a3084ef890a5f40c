/**
 * Where the Redis bus keeps things. Two layouts:
 *
 * - one Redis (`single`): one epoch and one "renumbered" flag for the whole deployment, so a
 *   rotation is one transaction;
 * - a Redis Cluster (`sharded`): everything a topic's append touches (its epoch, counter, stream,
 *   append markers, renumbered flag) shares the hash tag `{topic}`, so the append script runs on
 *   the one shard that owns that topic and different resources' logs spread over the shards. The
 *   epoch is then per topic, and a rotation rotates every topic named in the registry.
 *
 * The hash tag is the text between the first `{` and the next `}`; every key of a topic starts
 * with the same `prefix:{topic}`, so whatever a prefix or topic contains, they all get the same tag.
 */
export interface RedisKeys {
  readonly sharded: boolean
  epoch (topic: string): string
  seq (topic: string): string
  log (topic: string): string
  appended (topic: string, id: string): string
  renumbered (topic: string): string
  /** The set of topics that have a log (sharded only: a rotation must find every epoch). */
  readonly topics: string
  stash (key: string): string
  lock (key: string): string
  channel (topic: string): string
}

export function redisKeys (prefix: string, sharded: boolean): RedisKeys {
  const shared = {
    topics: `${prefix}:topics`,
    stash: (key: string) => `${prefix}:stash:${key}`,
    lock: (key: string) => `${prefix}:lock:${key}`,
    channel: (topic: string) => `${prefix}:bus:${topic}`
  }
  if (!sharded) {
    return {
      ...shared,
      sharded,
      epoch: () => `${prefix}:epoch`,
      seq: (topic) => `${prefix}:seq:${topic}`,
      log: (topic) => `${prefix}:log:${topic}`,
      appended: (_topic, id) => `${prefix}:appended:${id}`,
      renumbered: () => `${prefix}:renumbered`
    }
  }
  const slot = (topic: string): string => `${prefix}:{${topic}}`
  return {
    ...shared,
    sharded,
    epoch: (topic) => `${slot(topic)}:epoch`,
    seq: (topic) => `${slot(topic)}:seq`,
    log: (topic) => `${slot(topic)}:log`,
    appended: (topic, id) => `${slot(topic)}:appended:${id}`,
    renumbered: (topic) => `${slot(topic)}:renumbered`
  }
}
