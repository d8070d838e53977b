-- Prune.  KEYS: tokens.  ARGV: cursor count today days max_tokens.  A
-- malformed value is removed too.  HDEL in slices: Lua's unpack has a
-- stack limit.

local today, days, max = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local r = redis.call('HSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[2])
local over = redis.call('HLEN', KEYS[1]) > max
local f, del, n = r[2], {}, 0
for i = 1, #f, 2 do
  local s, h, d = string.match(f[i + 1], '^(%d+) (%d+) (%d+)$')
  local go = true
  if s then
    local c, old = tonumber(s) + tonumber(h), today - tonumber(d) >= days
    go = (c <= 1 and old) or (over and (c <= 2 or (c <= 5 and old)))
  end
  if go then
    del[#del + 1] = f[i]
    if #del == 500 then
      n = n + redis.call('HDEL', KEYS[1], unpack(del))
      del = {}
    end
  end
end
if #del > 0 then n = n + redis.call('HDEL', KEYS[1], unpack(del)) end
return {r[1], n, redis.call('HLEN', KEYS[1])}
