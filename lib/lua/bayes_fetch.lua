-- Fetch.  KEYS: tokens meta.  ARGV: tokens joined by newlines.  Reply:
-- nspam, nham, then each token's "SPAM HAM DAY" or nil.

local m = redis.call('HMGET', KEYS[2], 'nspam', 'nham')
local out = {m[1] or '0', m[2] or '0'}
local t = {}
for w in string.gmatch(ARGV[1], '[^\n]+') do t[#t + 1] = w end
if #t > 0 then
  local v = redis.call('HMGET', KEYS[1], unpack(t))
  for i = 1, #t do out[i + 2] = v[i] end
end
return out
