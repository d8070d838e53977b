-- Published.  KEYS: published, then comment:ID of each comment on the
-- page.  ARGV: limit key_base after.  At most limit + 1 comments (the one
-- more tells the caller there is a next page), oldest first, from the
-- start or after the id "after".  A comment's score is its created_at,
-- which its id begins with, so the set's order (score, then id) is the
-- order of the ids: the page starts at the after id's millisecond and
-- skips the ids up to it.  The caller does not know the page's ids
-- before: when a comment on the page is not in KEYS, the reply is
-- {'need', ID...}, the page's ids, and nothing is read of any comment;
-- the caller asks again with their keys (the Redis Cluster rule).

local limit, base, after = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local ids = {}
if after == '' then
  ids = redis.call('ZRANGE', KEYS[1], 0, limit)
else
  local from, off = tonumber(string.sub(after, 1, 12), 16), 0
  while #ids <= limit do
    local batch = redis.call('ZRANGEBYSCORE', KEYS[1], from, '+inf', 'LIMIT', off, 100)
    if #batch == 0 then break end
    for _, id in ipairs(batch) do
      if id > after and #ids <= limit then ids[#ids + 1] = id end
    end
    off = off + #batch
  end
end
local given, ck = {}, {}
for i = 2, #KEYS do given[KEYS[i]] = KEYS[i] end
for i, id in ipairs(ids) do
  ck[i] = given[base .. 'comment:' .. id]
  if not ck[i] then
    table.insert(ids, 1, 'need')
    return ids
  end
end
local out = {}
for i = 1, #ids do
  out[i] = redis.call('HMGET', ck[i], 'id', 'post', 'parent', 'author', 'url', 'body', 'created_at')
end
return out
