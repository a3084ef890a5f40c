/** Deterministic pseudo-random generator (mulberry32), so a failing run can be replayed. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

export type Random = ReturnType<typeof prng>

export const pick = <T>(random: Random, list: readonly T[]): T => list[Math.floor(random() * list.length)] as T

const TYPES = ['ping', 'subscribe', 'unsubscribe', 'get', 'list', 'insert', 'update', 'delete', 'publish', 'join', 'leave', 'channel:message', 'channel:update', 'auth']
const KEYS = ['type', 'resource', 'id', 'filter', 'data', 'events', 'since', 'epoch', 'limit', 'cursor', 'partition', 'channel', 'message', 'token', 'userInfo', 'event', 'subscriptionId', '__proto__', 'constructor', 'prototype', 'channel.x', '']

/** A value of any JSON shape, including the awkward ones. */
export function randomValue (random: Random, depth = 0): unknown {
  const kind = Math.floor(random() * (depth > 3 ? 8 : 11))
  switch (kind) {
    case 0: return null
    case 1: return random() < 0.5
    case 2: return Math.floor(random() * 2e9) - 1e9
    case 3: return pick(random, [0, -1, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER + 2])
    case 4: return pick(random, ['', 'messages', 'users', 'nope', 'public', 'secret', 'm1', 'u1', '../x', 'a/b', '%00', '\u0000', 'é😀', '__proto__'])
    case 5: return 'x'.repeat(Math.floor(random() * 3000))
    case 6: return pick(random, ['insert', 'update', 'delete', 'reset'])
    case 7: return String(Math.floor(random() * 1000))
    case 8: return Array.from({ length: Math.floor(random() * 6) }, () => randomValue(random, depth + 1))
    case 9: return Object.fromEntries(Array.from({ length: Math.floor(random() * 5) }, () => [pick(random, KEYS), randomValue(random, depth + 1)]))
    default: return { channel: randomValue(random, depth + 1), content: randomValue(random, depth + 1), meta: { secret: randomValue(random, depth + 1) } }
  }
}

/** A message that is close to valid: a known type with plausible fields, then mutated. */
export function randomMessage (random: Random, templates: Array<Record<string, unknown>>): Record<string, unknown> {
  const message: Record<string, unknown> = { ...pick(random, templates) }
  const mutations = Math.floor(random() * 4)
  for (let i = 0; i < mutations; i++) {
    const op = random()
    const keys = Object.keys(message)
    if (op < 0.3 && keys.length > 0) delete message[pick(random, keys)]
    else if (op < 0.7) message[pick(random, KEYS)] = randomValue(random)
    else if (op < 0.85) message.type = pick(random, TYPES)
    else if (keys.length > 0) message[pick(random, keys)] = randomValue(random)
  }
  return message
}

/** Raw frames that are not valid messages at all. */
export function randomGarbage (random: Random): string {
  return pick(random, [
    '', ' ', 'null', '[]', '"str"', '42', '{', '{"type":', '{"type":"ping"', 'undefined', '{"type":"ping"}}',
    '{"__proto__":{"x":1},"type":"ping"}', '{"type":"ping","constructor":{"prototype":{"x":1}}}',
    Buffer.from(Array.from({ length: 32 }, () => Math.floor(random() * 256))).toString('latin1'),
    '{"type":"list","resource":"messages","filter":' + '['.repeat(2000) + ']'.repeat(2000) + '}'
  ])
}
