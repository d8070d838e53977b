-- Expand an event.  KEYS: outbox outbox:seq queue:pending comment:CID
-- privacy:notes, then from what the caller read first (the comment's
-- e-mail address and outbox:seq) the address's email:SHA1 and
-- receipt:SHA1 when it has one, and notification:NID for each NID the
-- next notifications can take (seq + 1 on, one per admin address and
-- two more: the most one event makes).  outbox:seq other than it was
-- read is -1, nothing written: read again.  An address can only go (the
-- privacy expiry), never come, so the keys read name every key the
-- script needs; any other is refused.  ARGV: group entry_id event
-- comment_id key_base now_ms on_receipt on_approve webhook default_lang
-- receipt_interval seq (as read, '' for none), then the admin addresses.
-- What the author's notifications copy is a list of its own, so that
-- nothing but the author's own words can reach the author's mail.  Anyone can type
-- any address into a form: one receipt per address and receipt_interval
-- ({P}:receipt:SHA1), so that heinzel cannot be made to mail someone
-- again and again.  Every notification is entered in the index of the
-- comment's e-mail address, and one that copies an IP or user agent in
-- privacy:notes, so that both can be found and erased.
-- The admin's mails are in default_lang ([notify] lang, the admin's
-- language), the author's in the comment's own.
--! needs: email_key declared

if (redis.call('GET', KEYS[2]) or '') ~= ARGV[12] then return -1 end
local ev, cid = ARGV[3], ARGV[4]
local key = declared(ARGV[5], 'outbox_expand')
local raw = redis.call('HGETALL', KEYS[4])
local c = {}
for i = 1, #raw, 2 do c[raw[i]] = raw[i + 1] end
-- Every key named before anything is written.
local ek, rk
if c.email and c.email ~= '' then
  ek = email_key(key, c.email)
  rk = key('receipt:' .. redis.sha1hex(string.lower(c.email)))
end
local lang = ARGV[10]
if c.lang == 'de' or c.lang == 'en' then lang = c.lang end
local public = {'post', 'post_title', 'post_url', 'author', 'url', 'body', 'created_at'}
local private = {'email', 'ip', 'user_agent', 'score', 'hits', 'hold', 'status'}
local made = 0
local function add(channel, kind, to, admin)
  local nid = tostring(redis.call('INCR', KEYS[2]))
  local f = {'channel', channel, 'kind', kind, 'to', to, 'event', ev, 'comment', cid, 'lang', admin and ARGV[10] or lang, 'attempts', '0', 'created', ARGV[6]}
  local function copy(list)
    for _, k in ipairs(list) do
      if c[k] then f[#f + 1] = k; f[#f + 1] = c[k] end
    end
  end
  copy(public)
  if admin then
    copy(private)
    f[#f + 1] = 'pending'
    f[#f + 1] = tostring(redis.call('ZCARD', KEYS[3]))
  end
  redis.call('HSET', key('notification:' .. nid), unpack(f))
  if ek then redis.call('SADD', ek, 'n:' .. nid) end
  if admin and (c.ip or c.user_agent) then
    redis.call('ZADD', KEYS[5], c.created_at or ARGV[6], nid)
  end
  redis.call('XADD', KEYS[1], '*', 'n', nid)
  made = made + 1
end
if c.status then
  local email = c.email or ''
  if ev == 'pending' then
    for i = 13, #ARGV do add('mail', 'admin', ARGV[i], true) end
    if ARGV[7] == '1' and email ~= '' and (ARGV[11] == '0' or redis.call('SET', rk, '1', 'NX', 'EX', ARGV[11])) then
      add('mail', 'received', email, false)
    end
    if ARGV[9] == '1' then add('webhook', 'pending', '', true) end
  elseif ev == 'approved' then
    if ARGV[8] == '1' and email ~= '' then add('mail', 'published', email, false) end
    if ARGV[9] == '1' then add('webhook', 'approved', '', true) end
  end
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return made
