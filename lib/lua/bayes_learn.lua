-- Learn.  KEYS: tokens meta [message].  ARGV: op (spam, ham, forget) day
-- tokens.  The message's "learned" field says what it was trained as; the
-- message hash is never created here, so a deleted comment stays deleted.
-- A token whose counts both reach 0 is removed.

local op, day = ARGV[1], tonumber(ARGV[2])
local msg, prev = KEYS[3], false
if msg and redis.call('EXISTS', msg) == 0 then msg = nil end
if msg then prev = redis.call('HGET', msg, 'learned') end
local outcome
if op == 'forget' then
  outcome = prev and 'forgotten' or 'not_learned'
elseif prev == op then outcome = 'unchanged'
elseif prev then outcome = 'relearned'
else outcome = 'learned' end
local function total(cls, d)
  local n = tonumber(redis.call('HGET', KEYS[2], 'n' .. cls) or '0') + d
  if n < 0 then n = 0 end
  redis.call('HSET', KEYS[2], 'n' .. cls, n)
end
if outcome ~= 'unchanged' and outcome ~= 'not_learned' then
  local t = {}
  for w in string.gmatch(ARGV[3], '[^\n]+') do t[#t + 1] = w end
  local c = {}
  if #t > 0 then
    local v = redis.call('HMGET', KEYS[1], unpack(t))
    for i = 1, #t do
      local s, h, d = string.match(v[i] or '', '^(%d+) (%d+) (%d+)$')
      if s then c[i] = {tonumber(s), tonumber(h), tonumber(d)}
      else c[i] = {0, 0, day} end
    end
  end
  local function step(cls, d)
    local k = cls == 'spam' and 1 or 2
    for i = 1, #t do
      c[i][k] = c[i][k] + d
      if c[i][k] < 0 then c[i][k] = 0 end
      if d > 0 then c[i][3] = day end
    end
    total(cls, d)
  end
  if prev then step(prev, -1) end
  if op ~= 'forget' then step(op, 1) end
  local set, del = {}, {}
  for i = 1, #t do
    if c[i][1] + c[i][2] > 0 then
      set[#set + 1] = t[i]
      set[#set + 1] = c[i][1] .. ' ' .. c[i][2] .. ' ' .. c[i][3]
    else del[#del + 1] = t[i] end
  end
  if #set > 0 then redis.call('HSET', KEYS[1], unpack(set)) end
  if #del > 0 then redis.call('HDEL', KEYS[1], unpack(del)) end
  if msg then
    if op == 'forget' then redis.call('HDEL', msg, 'learned')
    else redis.call('HSET', msg, 'learned', op) end
  end
end
local m = redis.call('HMGET', KEYS[2], 'nspam', 'nham')
return {outcome, tonumber(m[1] or '0'), tonumber(m[2] or '0')}
