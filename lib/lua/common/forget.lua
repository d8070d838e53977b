-- forget(base, id): remove a comment, its queue, post and published
-- entries and what the privacy indexes hold of it.  forget_note(base,
-- nid): the same for a notification (its hash, its index entries; the
-- stream and retry entries of a notification gone are skipped).
-- Needs email_key before it.

local function forget(base, id)
  local key = base .. 'comment:' .. id
  local f = redis.call('HMGET', key, 'status', 'post', 'email')
  if f[1] then redis.call('ZREM', base .. 'queue:' .. f[1], id) end
  if f[2] then
    redis.call('ZREM', base .. 'published:' .. f[2], id)
    redis.call('ZREM', base .. 'post:' .. f[2], id)
  end
  if f[3] and f[3] ~= '' then
    redis.call('SREM', email_key(base, f[3]), 'c:' .. id)
  end
  redis.call('ZREM', base .. 'privacy:refused', id)
  redis.call('DEL', key)
end
local function forget_note(base, nid)
  local key = base .. 'notification:' .. nid
  local f = redis.call('HMGET', key, 'kind', 'to', 'email')
  local e = f[3]
  if not e and (f[1] == 'received' or f[1] == 'published') then e = f[2] end
  if e and e ~= '' then redis.call('SREM', email_key(base, e), 'n:' .. nid) end
  redis.call('ZREM', base .. 'privacy:notes', nid)
  redis.call('DEL', key)
end
