-- Requeue.  KEYS: outbox outbox:retry outbox:dead, then notification:NID
-- of each notification to send again.  ARGV: their nids, in the same
-- order (ARGV[i] is the one of KEYS[3 + i]).  One neither dead nor
-- waiting, or gone, is left alone.

local n = 0
for i, nid in ipairs(ARGV) do
  local key = KEYS[3 + i]
  local was = redis.call('ZREM', KEYS[3], nid) + redis.call('ZREM', KEYS[2], nid)
  if was > 0 and redis.call('EXISTS', key) == 1 then
    redis.call('HSET', key, 'attempts', '0')
    redis.call('HDEL', key, 'due')
    redis.call('XADD', KEYS[1], '*', 'n', nid)
    n = n + 1
  end
end
return n
