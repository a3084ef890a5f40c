/**
 * Lua run inside Redis so numbering, storing and publishing a log entry is one atomic step:
 * two nodes can never interleave INCR and PUBLISH, so every node receives a topic's entries in
 * seq order and the stream never has a hole that pub/sub delivered.
 *
 * KEYS: epoch, seq, stream, append id marker, renumbered flag. ARGV: candidate epoch, max history, origin (JSON),
 * topic (JSON), payload (JSON), channel, marker lifetime (ms), deadline (ms on Redis' clock, or '').
 * Reply: {seq, epoch, time seconds, time microseconds}; seq 0 when refused past the deadline.
 *
 * Idempotent per append id: the marker records the seq and epoch an id got, so running the same
 * append again (our retry after a lost reply, or ioredis re-sending an unanswered command after a
 * reconnect) returns the first entry instead of making a second one.
 *
 * Fenced by the deadline, checked against Redis' own clock when the script runs: a command that
 * waited in a frozen Redis (or a dead connection's buffer) past the moment its writer gave up is
 * refused instead of being numbered after changes that causally follow it. The marker check
 * comes first, so asking again about an entry made in time still returns it.
 */
export const APPEND_SCRIPT = `
local now = redis.call('TIME')
local done = redis.call('GET', KEYS[4])
if done then
  local comma = string.find(done, ',', 1, true)
  return {tonumber(string.sub(done, 1, comma - 1)), string.sub(done, comma + 1), now[1], now[2]}
end
if ARGV[8] ~= '' and tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) > tonumber(ARGV[8]) then
  return {0, '', now[1], now[2]}
end
redis.call('SET', KEYS[1], ARGV[1], 'NX')
local epoch = redis.call('GET', KEYS[1])
local seq = redis.call('INCR', KEYS[2])
local function message ()
  return '{"origin":' .. ARGV[3] .. ',"topic":' .. ARGV[4] .. ',"seq":' .. seq .. ',"epoch":"' .. epoch .. '","payload":' .. ARGV[5] .. '}'
end
local msg = message()
local maxlen = tonumber(ARGV[2])
if maxlen > 0 then
  local added = redis.pcall('XADD', KEYS[3], 'MAXLEN', maxlen, '0-' .. seq, 'm', msg)
  if type(added) == 'table' and added.err then
    -- The stream outlived its counter (the seq key was lost, e.g. evicted): numbering restarts,
    -- so it must be a new epoch, or every node would drop the reused seqs as already seen.
    redis.call('DEL', KEYS[3])
    redis.call('SET', KEYS[1], ARGV[1])
    redis.call('SET', KEYS[5], '1')
    epoch = ARGV[1]
    msg = message()
    redis.call('XADD', KEYS[3], 'MAXLEN', maxlen, '0-' .. seq, 'm', msg)
  end
end
redis.call('PUBLISH', ARGV[6], msg)
redis.call('SET', KEYS[4], seq .. ',' .. epoch, 'PX', ARGV[7])
return {seq, epoch, now[1], now[2]}
`

/**
 * Reads a topic's head and (when ARGV[2] is not empty) its history from that stream id on, in
 * one atomic step so the entries and the head agree.
 * KEYS: epoch, seq, stream, renumbered flag. ARGV: candidate epoch, first stream id to read (or '').
 * Reply: {epoch, seq, entries, renumbered (0 or 1)}.
 */
export const READ_SCRIPT = `
redis.call('SET', KEYS[1], ARGV[1], 'NX')
local epoch = redis.call('GET', KEYS[1])
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
local entries = {}
if ARGV[2] ~= '' then
  entries = redis.call('XRANGE', KEYS[3], ARGV[2], '+')
end
return {epoch, seq, entries, redis.call('EXISTS', KEYS[4])}
`

/**
 * Releases a lease only if the token still holds it: a holder whose lease ran out (and passed to
 * another node) must not delete the new holder's. KEYS: lock. ARGV: token.
 */
export const UNLOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`

/**
 * PUBLISH on a Redis Cluster, sent to the shard that owns KEYS[1] (the topic's hash tag): a
 * plain PUBLISH goes to any node, so two messages of one topic could take different paths
 * through the cluster and arrive out of order. KEYS: a key of the topic. ARGV: channel, message.
 */
export const PUBLISH_SCRIPT = `
return redis.call('PUBLISH', ARGV[1], ARGV[2])
`
