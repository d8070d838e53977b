-- Requeue.  KEYS: outbox outbox:retry outbox:dead.  ARGV: key_base nid ('' = every dead one).

local ids = {ARGV[2]}
if ARGV[2] == '' then ids = redis.call('ZRANGE', KEYS[3], 0, -1) end
local n = 0
for _, nid in ipairs(ids) do
  local key = ARGV[1] .. 'notification:' .. nid
  local was = redis.call('ZREM', KEYS[3], nid) + redis.call('ZREM', KEYS[2], nid)
  if was > 0 and redis.call('EXISTS', key) == 1 then
    redis.call('HSET', key, 'attempts', '0')
    redis.call('HDEL', key, 'due')
    redis.call('XADD', KEYS[1], '*', 'n', nid)
    n = n + 1
  end
end
return n
