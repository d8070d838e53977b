-- Trim.  KEYS: outbox.  ARGV: group.  Entries done are acknowledged, not
-- deleted one by one: XDEL looks for its entry from the start of the
-- entry's node, past every entry deleted before it, and cost more than
-- the rest of a comment's work together.  This drops in one step every
-- entry before the group's oldest unacknowledged one, or, with none, up
-- to the last one delivered.  Entries not yet delivered stay.  Reply:
-- the number of entries dropped.

if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local last
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local name, delivered
  for i = 1, #g, 2 do
    if g[i] == 'name' then name = g[i + 1]
    elseif g[i] == 'last-delivered-id' then delivered = g[i + 1] end
  end
  if name == ARGV[1] then last = delivered end
end
if not last then return 0 end	-- nobody reads yet: nothing is done
local p = redis.call('XPENDING', KEYS[1], ARGV[1])
local keep = p[2]
if not keep then
  -- Nothing pending: keep the entries after the last one delivered.
  local ms, seq = string.match(last, '^(%d+)-(%d+)$')
  if not ms or #seq > 15 then return 0 end
  keep = ms .. '-' .. string.format('%d', tonumber(seq) + 1)
end
return redis.call('XTRIM', KEYS[1], 'MINID', keep)
