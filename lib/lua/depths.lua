-- Depths.  KEYS: queue:pending queue:approved queue:spam queue:rejected
-- outbox outbox:retry outbox:dead rulestats (its fields and values last).

local out = {}
for i = 1, 4 do out[i] = redis.call('ZCARD', KEYS[i]) end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
out[5] = tonumber(first[2] or 0)
out[6] = redis.call('XLEN', KEYS[5])
out[7] = redis.call('ZCARD', KEYS[6])
out[8] = redis.call('ZCARD', KEYS[7])
out[9] = redis.call('HGETALL', KEYS[8])
return out
