-- Stats.  KEYS: tokens meta.

local m = redis.call('HMGET', KEYS[2], 'nspam', 'nham')
return {tonumber(m[1] or '0'), tonumber(m[2] or '0'), redis.call('HLEN', KEYS[1])}
