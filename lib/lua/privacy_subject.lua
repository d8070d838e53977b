-- Subject.  KEYS: stats email:SHA1 receipt:SHA1 known_authors outbox:retry
-- outbox:dead privacy:refused privacy:notes (the address's index and its
-- receipt marker, one receipt mail per address and receipt_interval, are
-- both named by the address's SHA1), then the nhashed hashed keys, then
-- the keys the address's comments and notifications need.  ARGV:
-- key_base mode email ids ("*": no check) nhashed.  Which comments and
-- notifications the address has, their queues, posts and addresses, only
-- Redis knows: when a key the export or erase wants is not in KEYS the
-- reply is {'need', KEY...}, every key after the hashed ones that it
-- wants, and nothing is read of them nor written; the caller asks again
-- with them.  The known_authors entries are those the index names and
-- those the address's comments still make (entries of authors approved
-- before the index existed).  A notification to an admin is exported
-- without the admin's address: that is not the reader's.  A text's list
-- of writers (a hashed key whose value is "ID E I ...", submit.lua) holds
-- other readers too: only the entries of the address's own comments are
-- exported, and erased, the rest kept with the list's expiry.
--! needs: email_key forget declared wanted

local base, mode, email, nhashed = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[5])
local key = declared(base, 'privacy_subject')
local need, asked = wanted(base)
local ek, rk = KEYS[2], KEYS[3]
local cids, nids, kh = {}, {}, {}
for _, m in ipairs(redis.call('SMEMBERS', ek)) do
  local kind, v = string.sub(m, 1, 2), string.sub(m, 3)
  if kind == 'c:' then cids[#cids + 1] = v
  elseif kind == 'n:' then nids[#nids + 1] = v
  elseif kind == 'k:' then kh[v] = true end
end
table.sort(cids)
table.sort(nids)
-- Every key the comments and notifications need (forget, forget_note).
for _, id in ipairs(cids) do
  local ck = need('comment:' .. id)
  if ck then
    local f = redis.call('HMGET', ck, 'status', 'post', 'email')
    if f[1] then need('queue:' .. f[1]) end
    if f[2] then
      need('published:' .. f[2])
      need('post:' .. f[2])
    end
    if f[3] and f[3] ~= '' then email_key(need, f[3]) end
  end
end
for _, nid in ipairs(nids) do
  local nk = need('notification:' .. nid)
  if nk then
    local f = redis.call('HMGET', nk, 'kind', 'to', 'email')
    local e = f[3]
    if not e and (f[1] == 'received' or f[1] == 'published') then e = f[2] end
    if e and e ~= '' then email_key(need, e) end
  end
end
local ask = asked()
if ask then return ask end

local lower = string.lower(email)
local comments, seen, notes, known, keys = {}, {}, {}, {}, {}
for _, id in ipairs(cids) do
  local ck = key('comment:' .. id)
  local h = redis.call('HGETALL', ck)
  if #h > 0 then
    comments[#comments + 1] = h
    seen[#seen + 1] = id
    local a = redis.call('HGET', ck, 'author')
    kh[redis.sha1hex(lower .. '\n' .. string.lower(a or ''))] = true
  end
end
if ARGV[4] ~= '*' and table.concat(seen, ' ') ~= ARGV[4] then return {'changed'} end
for h in pairs(kh) do
  if redis.call('SISMEMBER', KEYS[4], h) == 1 then known[#known + 1] = h end
end
table.sort(known)
for _, nid in ipairs(nids) do
  local h = redis.call('HGETALL', key('notification:' .. nid))
  if #h > 0 then
    local out, admin = {}, false
    for i = 1, #h, 2 do if h[i] == 'kind' and (h[i + 1] == 'admin') then admin = true end end
    for i = 1, #h, 2 do
      if not (admin and h[i] == 'to') then out[#out + 1] = h[i]; out[#out + 1] = h[i + 1] end
    end
    notes[#notes + 1] = {nid, out}
  end
end
local own = {}
for _, id in ipairs(cids) do own[id] = true end
-- The list's flag, its entries of this address, the others'; nil if v
-- is a marker of one writer (an id).
local function writers(v)
  if not string.find(v, ' ', 1, true) and string.sub(v, 1, 1) ~= '+' then
    return nil
  end
  local mine, others = {}, {}
  for wid, we, wi in string.gmatch(v, '(%x+) (%x+) (%S+)') do
    local t = own[wid] and mine or others
    t[#t + 1] = wid .. ' ' .. we .. ' ' .. wi
  end
  return string.sub(v, 1, 1) == '+' and '+' or '', mine, others
end
-- What an erase does with hashed key i: true delete it, false leave it
-- (a list without this address), {flag, others} write the list again.
local erase = {}
for i = 9, 8 + nhashed do
  local v = redis.call('GET', KEYS[i])
  local flag, mine, others = writers(v or '')
  erase[i] = true
  if flag then
    erase[i], v = false, nil
    if #mine > 0 then
      if flag ~= '' or #others > 0 then erase[i] = {flag, others} else erase[i] = true end
      v = table.concat(mine, ' ')
    end
  end
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
  redis.call('ZREM', KEYS[5], nid)
  redis.call('ZREM', KEYS[6], nid)
  forget_note(key, nid)
end
for _, h in ipairs(known) do redis.call('SREM', KEYS[4], h) end
for i = 9, 8 + nhashed do
  local e = erase[i]
  if e == true then
    redis.call('DEL', KEYS[i])
  elseif e then
    redis.call('SET', KEYS[i], e[1] .. table.concat(e[2], ' '), 'KEEPTTL')
  end
end
redis.call('DEL', rk)
redis.call('DEL', ek)
redis.call('HINCRBY', KEYS[1], 'privacy_erased', 1)
return {'erased', #comments, #notes, #known, #keys}
