-- Purge.  KEYS: queue:spam stats privacy:refused, then the keys the
-- comments to purge need (below).  ARGV: before_ms limit key_base.  The
-- queue is ordered by created_at, so candidates come from the front; one
-- moved to spam after before_ms stays and is stepped over.  An index entry
-- whose comment is gone or not spam is dropped without counting.
-- The caller cannot know which comments these are, nor their posts and
-- addresses: a first pass reads (through KEYS only) and writes nothing;
-- when a key it wants is not in KEYS the reply is {'need', KEY...}, every
-- key besides the three first that the purge wants now, and the caller
-- asks again with them (the Redis Cluster rule).  Otherwise the reply is
-- the number purged.
--! needs: email_key forget declared wanted

local before, limit, base = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local key = declared(base, 'purge')
local need, asked = wanted(base)

-- The plan: which ids to drop from the index, which to forget.
local drop, purge, n, off = {}, {}, 0, 0
while n < limit do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', before, 'LIMIT', off, 100)
  if #ids == 0 then break end
  off = off + #ids
  for _, id in ipairs(ids) do
    local ck = need('comment:' .. id)
    if not ck then
      n = n + 1		-- read on the next pass
    else
      local f = redis.call('HMGET', ck, 'status', 'post', 'moderated_at', 'email')
      if f[1] ~= 'spam' then
        drop[#drop + 1] = id
      elseif not (f[3] and tonumber(f[3]) and tonumber(f[3]) >= before) then
        if f[2] then
          need('post:' .. f[2])
          need('published:' .. f[2])
        end
        if f[4] and f[4] ~= '' then email_key(need, f[4]) end
        purge[#purge + 1] = id
        n = n + 1
      end
    end
    if n >= limit then break end
  end
end
local ask = asked()
if ask then return ask end

for _, id in ipairs(drop) do redis.call('ZREM', KEYS[1], id) end
for _, id in ipairs(purge) do forget(key, id) end
if #purge > 0 then redis.call('HINCRBY', KEYS[2], 'purged', #purge) end
return #purge
