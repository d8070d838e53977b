-- Fail.  KEYS: outbox outbox:retry outbox:dead stats notification:NID.
-- ARGV: group entry_id nid channel reason permanent now_ms max_tries
-- base_ms max_ms.  A notification dropped meanwhile is only acknowledged.

redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
local key = KEYS[5]
if redis.call('EXISTS', key) == 0 then return {'gone', 0, 0} end
local n = redis.call('HINCRBY', key, 'attempts', 1)
local now = tonumber(ARGV[7])
redis.call('HSET', key, 'error', ARGV[5], 'failed_at', ARGV[7])
if ARGV[6] == '1' or n >= tonumber(ARGV[8]) then
  redis.call('ZADD', KEYS[3], now, ARGV[3])
  redis.call('HINCRBY', KEYS[4], 'notify_dead_' .. ARGV[4], 1)
  return {'dead', n, 0}
end
local delay = tonumber(ARGV[9]) * math.pow(2, n - 1)
if delay > tonumber(ARGV[10]) then delay = tonumber(ARGV[10]) end
local due = math.floor(now + delay)
redis.call('HSET', key, 'due', string.format('%.0f', due))
redis.call('ZADD', KEYS[2], due, ARGV[3])
redis.call('HINCRBY', KEYS[4], 'notify_retried_' .. ARGV[4], 1)
return {'retry', n, due}
