-- Purge.  KEYS: queue:spam stats.  ARGV: before_ms limit key_base.  The
-- queue is ordered by created_at, so candidates come from the front; one
-- moved to spam after before_ms stays and is stepped over.  An index entry
-- whose comment is gone or not spam is dropped without counting.
--! needs: email_key forget

local before, limit, base = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local function key(name) return base .. name end
local n, kept = 0, 0
while n < limit do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', before, 'LIMIT', kept, 100)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local f = redis.call('HMGET', key('comment:' .. id), 'status', 'post', 'moderated_at')
    if f[1] ~= 'spam' then
      redis.call('ZREM', KEYS[1], id)
    elseif f[3] and tonumber(f[3]) and tonumber(f[3]) >= before then
      kept = kept + 1
    else
      forget(key, id)
      n = n + 1
      if n >= limit then break end
    end
  end
end
if n > 0 then redis.call('HINCRBY', KEYS[2], 'purged', n) end
return n
