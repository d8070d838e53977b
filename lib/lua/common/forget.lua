-- forget(key, id): remove a comment, its queue, post and published
-- entries and what the privacy indexes hold of it.  forget_note(key,
-- nid): the same for a notification (its hash, its index entries; the
-- stream and retry entries of a notification gone are skipped).  key(name)
-- makes {P}:name (a script that takes every key in KEYS refuses others).
-- Needs email_key before it.

local function forget(key, id)
  local ck = key('comment:' .. id)
  local f = redis.call('HMGET', ck, 'status', 'post', 'email')
  if f[1] then redis.call('ZREM', key('queue:' .. f[1]), id) end
  if f[2] then
    redis.call('ZREM', key('published:' .. f[2]), id)
    redis.call('ZREM', key('post:' .. f[2]), id)
  end
  if f[3] and f[3] ~= '' then
    redis.call('SREM', email_key(key, f[3]), 'c:' .. id)
  end
  redis.call('ZREM', key('privacy:refused'), id)
  redis.call('DEL', ck)
end
local function forget_note(key, nid)
  local nk = key('notification:' .. nid)
  local f = redis.call('HMGET', nk, 'kind', 'to', 'email')
  local e = f[3]
  if not e and (f[1] == 'received' or f[1] == 'published') then e = f[2] end
  if e and e ~= '' then redis.call('SREM', email_key(key, e), 'n:' .. nid) end
  redis.call('ZREM', key('privacy:notes'), nid)
  redis.call('DEL', nk)
end
