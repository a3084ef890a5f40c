/**
 * Lua run inside Redis so numbering, storing and publishing a log entry is one atomic step:
 * two nodes can never interleave INCR and PUBLISH, so every node receives a topic's entries in
 * seq order and the stream never has a hole that pub/sub delivered.
 *
 * KEYS: epoch, seq, stream. ARGV: candidate epoch, max history, origin (JSON), topic (JSON),
 * payload (JSON), channel, append id, '1' when retrying that id.
 *
 * A retry first looks for the id in the stream: the first attempt may have run even though its
 * reply never arrived. Not found in a stream that was never trimmed means it never ran; in a full
 * stream the entry may have been trimmed away, so the script refuses rather than risk a duplicate.
 */
export const APPEND_SCRIPT = `
local maxlen = tonumber(ARGV[2])
if ARGV[8] == '1' then
  local recent = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', maxlen + 1)
  for _, entry in ipairs(recent) do
    local fields = entry[2]
    if fields[4] == ARGV[7] then
      local seq = tonumber(string.match(entry[1], '^0%-(%d+)$'))
      return {seq, cjson.decode(fields[2]).epoch}
    end
  end
  if maxlen == 0 or #recent >= maxlen then
    return redis.error_reply('UNCERTAIN cannot tell whether append ' .. ARGV[7] .. ' ran: history is full or off')
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'NX')
local epoch = redis.call('GET', KEYS[1])
local seq = redis.call('INCR', KEYS[2])
local msg = '{"origin":' .. ARGV[3] .. ',"topic":' .. ARGV[4] .. ',"seq":' .. seq .. ',"epoch":"' .. epoch .. '","payload":' .. ARGV[5] .. '}'
if maxlen > 0 then
  local added = redis.pcall('XADD', KEYS[3], 'MAXLEN', maxlen, '0-' .. seq, 'm', msg, 'i', ARGV[7])
  if type(added) == 'table' and added.err then
    -- the stream outlived its counter (e.g. the seq key was deleted): start it again
    redis.call('DEL', KEYS[3])
    redis.call('XADD', KEYS[3], 'MAXLEN', maxlen, '0-' .. seq, 'm', msg, 'i', ARGV[7])
  end
end
redis.call('PUBLISH', ARGV[6], msg)
return {seq, epoch}
`

/**
 * Reads a topic's head and (when ARGV[2] is not empty) its history from that stream id on, in
 * one atomic step so the entries and the head agree.
 * KEYS: epoch, seq, stream. ARGV: candidate epoch, first stream id to read (or '').
 */
export const READ_SCRIPT = `
redis.call('SET', KEYS[1], ARGV[1], 'NX')
local epoch = redis.call('GET', KEYS[1])
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
local entries = {}
if ARGV[2] ~= '' then
  entries = redis.call('XRANGE', KEYS[3], ARGV[2], '+')
end
return {epoch, seq, entries}
`
