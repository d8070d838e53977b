-- Subject.  KEYS: stats, then the hashed keys.  ARGV: key_base mode
-- email ids ("*": no check).  The receipt marker (one receipt mail per
-- address and receipt_interval) is named by the address's SHA1 like its
-- index, so the script finds it itself.  The known_authors entries are those the
-- index names and those the address's comments still make (entries of
-- authors approved before the index existed).  A notification to an admin
-- is exported without the admin's address: that is not the reader's.
--! needs: email_key forget

local base, mode, email = ARGV[1], ARGV[2], ARGV[3]
local function key(name) return base .. name end
local ek = email_key(key, email)
local cids, nids, kh = {}, {}, {}
for _, m in ipairs(redis.call('SMEMBERS', ek)) do
  local kind, v = string.sub(m, 1, 2), string.sub(m, 3)
  if kind == 'c:' then cids[#cids + 1] = v
  elseif kind == 'n:' then nids[#nids + 1] = v
  elseif kind == 'k:' then kh[v] = true end
end
table.sort(cids)
table.sort(nids)
local lower = string.lower(email)
local comments, seen, notes, known, keys = {}, {}, {}, {}, {}
for _, id in ipairs(cids) do
  local h = redis.call('HGETALL', base .. 'comment:' .. id)
  if #h > 0 then
    comments[#comments + 1] = h
    seen[#seen + 1] = id
    local a = redis.call('HGET', base .. 'comment:' .. id, 'author')
    kh[redis.sha1hex(lower .. '\n' .. string.lower(a or ''))] = true
  end
end
if ARGV[4] ~= '*' and table.concat(seen, ' ') ~= ARGV[4] then return {'changed'} end
for h in pairs(kh) do
  if redis.call('SISMEMBER', base .. 'known_authors', h) == 1 then known[#known + 1] = h end
end
table.sort(known)
for _, nid in ipairs(nids) do
  local h = redis.call('HGETALL', base .. 'notification:' .. nid)
  if #h > 0 then
    local out, admin = {}, false
    for i = 1, #h, 2 do if h[i] == 'kind' and (h[i + 1] == 'admin') then admin = true end end
    for i = 1, #h, 2 do
      if not (admin and h[i] == 'to') then out[#out + 1] = h[i]; out[#out + 1] = h[i + 1] end
    end
    notes[#notes + 1] = {nid, out}
  end
end
local rk = base .. 'receipt:' .. redis.sha1hex(lower)
for i = 2, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v then keys[#keys + 1] = {KEYS[i], v, redis.call('PTTL', KEYS[i])} end
end
local rv = redis.call('GET', rk)
if rv then keys[#keys + 1] = {rk, rv, redis.call('PTTL', rk)} end
if mode ~= 'erase' then
  redis.call('HINCRBY', KEYS[1], 'privacy_exported', 1)
  return {'export', comments, notes, known, keys}
end
for _, id in ipairs(cids) do forget(key, id) end
for _, nid in ipairs(nids) do
  redis.call('ZREM', base .. 'outbox:retry', nid)
  redis.call('ZREM', base .. 'outbox:dead', nid)
  forget_note(key, nid)
end
for _, h in ipairs(known) do redis.call('SREM', base .. 'known_authors', h) end
for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('DEL', rk)
redis.call('DEL', ek)
redis.call('HINCRBY', KEYS[1], 'privacy_erased', 1)
return {'erased', #comments, #notes, #known, #keys}
