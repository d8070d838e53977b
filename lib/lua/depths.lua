-- Depths.  KEYS: queue:pending queue:approved queue:spam queue:rejected
-- outbox outbox:retry outbox:dead rulestats (its fields and values last).
-- ARGV: the outbox's group.  The outbox's depth is what is not done:
-- entries delivered and not acknowledged, and those not delivered yet
-- (acknowledged ones wait for outbox_trim).  Without a group, or where
-- Redis cannot tell the lag, the stream's length.

local out = {}
for i = 1, 4 do out[i] = redis.call('ZCARD', KEYS[i]) end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
out[5] = tonumber(first[2] or 0)
out[6] = redis.call('XLEN', KEYS[5])
if out[6] > 0 then
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[5])) do
    local f = {}
    for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
    if f.name == ARGV[1] and type(f.lag) == 'number' then
      out[6] = f.pending + f.lag
    end
  end
end
out[7] = redis.call('ZCARD', KEYS[6])
out[8] = redis.call('ZCARD', KEYS[7])
out[9] = redis.call('HGETALL', KEYS[8])
return out
