-- Due.  KEYS: outbox:retry outbox.  ARGV: now_ms limit.

local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, nid in ipairs(ids) do
  redis.call('ZREM', KEYS[1], nid)
  redis.call('XADD', KEYS[2], '*', 'n', nid)
end
local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {#ids, tonumber(nxt[2] or 0)}
