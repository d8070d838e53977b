-- Submit.  KEYS: captcha request dup:email dup:ip comment queue:STATUS
-- queue:approved post published known_authors flood:ip flood:email
-- outbox email:SHA1 privacy:refused dup:text.
-- ARGV: captcha captcha_ttl_ms now_ms id status has_request request_ttl
-- dup_window dup_ip_ttl known approve_known ip_limit ip_window
-- email_limit email_window tell_pending tell_approved, then the
-- comment's field/value pairs with "status" last.  captcha is heinzeld's
-- verdict on the captcha (ok, wrong, too_fast, unknown; empty: not asked
-- for), captcha:ID the id's used marker, set for captcha_ttl_ms (until
-- the id expires).  dup_ip_ttl is 0 when the comment has no IP, 'text'
-- when its IP goes in the text's list (duplicate() below), else the IP
-- marker's seconds; known is SHA1(lowercase
-- e-mail LF lowercase name), empty without an e-mail address, and
-- email:SHA1 that address's index (store.c names both, so that every key
-- is in KEYS).
-- The request_id comes first so that a retried request whose captcha is
-- already spent still gets its comment's id: the reply names the id and
-- the caller reads its status (its key is only known here).  The IP is
-- counted before the captcha (failures from one network count too), the
-- e-mail address only after it passed: an address is anyone's to type,
-- and posts that fail the captcha must not lock its owner out.  An
-- address already over its limit is refused before the captcha, so a
-- refusal spends none.  A duplicate is the same text on the same post
-- from the same e-mail address or the same IP, as WordPress counts it;
-- other readers may say "Danke!" too.  An author is known by e-mail and
-- name together (WordPress's "comment author must have a previously
-- approved comment"): the lookup is here, not in heinzeld, so that it
-- sees every approval made before it.  The outbox event is written here
-- too: the comment and the promise to tell people about it are one step.
-- tell_pending and tell_approved ('1' or '0') say whether the
-- configuration names anyone to tell of a pending or an approved comment
-- (store_notify_makes); an event nobody is told of is not written.
-- A captcha id is answered once, right or wrong: the first answer marks
-- it used; one not made by heinzel or expired ('unknown') marks nothing.
-- The outcome counters in stats are heinzeld's to write (tally.c): one
-- HINCRBY a second, not one more write per comment.
--
-- Cheap on purpose (this runs for every comment): a flood counter gets
-- its expiry when it is created and is asked for its TTL only when over
-- the limit; a new text's duplicate marker is checked and set by one
-- SET NX GET; every write is one command, since each is replicated and
-- appended to the AOF on its own; numbers go to redis.call as the
-- strings they came as (a Lua number is printed again on each call).

local now, id = ARGV[3], ARGV[4]
if ARGV[6] == '1' then
  local prev = redis.call('GET', KEYS[2])
  if prev then return {'existing', prev} end
end

-- n: the count with this submission; limit 0 is off.
local function over(key, n, limit, window, which)
  limit = tonumber(limit)
  if limit == 0 or n <= limit then return nil end
  local ttl = redis.call('TTL', key)
  if ttl < 0 then
    -- Never a counter that outlives its window and locks out for good.
    redis.call('EXPIRE', key, window)
    ttl = tonumber(window)
  end
  return {'rate_limited', which, tostring(ttl)}
end
local function count(key, window)
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('EXPIRE', key, window) end
  return n
end

-- Duplicates.  dup:text (post and body) lists who wrote the text within
-- the window, "ID E I" each, E and I the hashes that name the writer's
-- own markers dup:E (e-mail) and dup:I (IP; '-' when not listed): most
-- texts are new, and one write records them.  A writer's time is its
-- id's.  Each write keeps only the entries within the window and sets
-- the window again, so an entry outlives its window by less than one
-- window: the IP is listed only when ip_keep is at least twice the
-- window (heinzeld says so with 'text'), else it has its own marker as
-- before.  Past DUP_LISTED writers (many readers' "Danke!") the next
-- ones have their own markers too, and a '+' in front of the list says
-- to look there; the list is written again so that it outlives them.
local DUP_LISTED = 16
local function own_marker(key, ttl)
  return redis.call('SET', key, id, 'NX', 'GET', 'EX', ttl)
end
local function duplicate(window, ipttl)
  local e = string.sub(KEYS[3], -16)
  local i = ipttl == 'text' and string.sub(KEYS[4], -16) or '-'
  local mine = id .. ' ' .. e .. ' ' .. i
  local listed = redis.call('SET', KEYS[16], mine, 'NX', 'GET', 'EX', window)
  local d
  if not listed then
    -- A new text: no marker of it can outlive the list, so the IP's own
    -- marker (when not listed) is made here, not found.
    if ipttl ~= 'text' and ipttl ~= '0' then
      d = own_marker(KEYS[4], ipttl)
      if d then redis.call('DEL', KEYS[16]) end
    end
    return d
  end
  local since = tonumber(now) - tonumber(window) * 1000
  local keep, n = {}, 0
  for wid, we, wi in string.gmatch(listed, '(%x+) (%x+) (%S+)') do
    -- The id's ms in two halves: tonumber(s, 16) is strtoul, 32 bits
    -- on a 32-bit build.
    local ms = tonumber(string.sub(wid, 1, 6), 16) * 16777216 +
      tonumber(string.sub(wid, 7, 12), 16)
    if ms > since then
      if we == e or (wi == i and i ~= '-') then return wid end
      n = n + 1
      keep[n] = wid .. ' ' .. we .. ' ' .. wi
    end
  end
  local own = string.sub(listed, 1, 1) == '+' or n >= DUP_LISTED
  if own then
    d = own_marker(KEYS[3], window)
    if not d and ipttl ~= '0' then
      d = own_marker(KEYS[4], ipttl == 'text' and window or ipttl)
      if d then redis.call('DEL', KEYS[3]) end
    end
  elseif ipttl ~= 'text' and ipttl ~= '0' then
    d = own_marker(KEYS[4], ipttl)
  end
  if d then return d end
  if not own then
    n = n + 1
    keep[n] = mine
  end
  redis.call('SET', KEYS[16], (own and '+' or '') .. table.concat(keep, ' '), 'EX', window)
  return nil
end

if ARGV[12] ~= '0' then
  local limited = over(KEYS[11], count(KEYS[11], ARGV[13]), ARGV[12],
    ARGV[13], 'ip')
  if limited then return limited end
end
local emails = 0
if ARGV[14] ~= '0' then
  emails = tonumber(redis.call('GET', KEYS[12]) or '0')
  local limited = over(KEYS[12], emails + 1, ARGV[14], ARGV[15], 'email')
  if limited then return limited end
end
if ARGV[1] ~= '' then
  local why = ARGV[1]
  if why ~= 'unknown' and
      not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[2]) then
    why = 'unknown'
  end
  if why ~= 'ok' then
    return {'captcha', why}
  end
end
if ARGV[14] ~= '0' then
  -- Counted now that the captcha passed; over() above saw this count.
  if emails == 0 then redis.call('SET', KEYS[12], '1', 'EX', ARGV[15])
  else redis.call('INCR', KEYS[12]) end
end
if ARGV[8] ~= '0' then
  local d = duplicate(ARGV[8], ARGV[9])
  if d then return {'duplicate', d} end
end

local status, queue, known = ARGV[5], KEYS[6], ARGV[10]
local n = #ARGV
if status == 'approved' then
  ARGV[n + 1], ARGV[n + 2] = 'moderated_by', 'auto_approve'
  ARGV[n + 3], ARGV[n + 4] = 'moderated_at', ARGV[3]
elseif ARGV[11] == '1' and known ~= '' and
    redis.call('SISMEMBER', KEYS[10], known) == 1 then
  status, queue = 'approved', KEYS[7]
  ARGV[n] = status
  ARGV[n + 1], ARGV[n + 2] = 'moderated_by', 'auto_approve known_author'
  ARGV[n + 3], ARGV[n + 4] = 'moderated_at', ARGV[3]
end
redis.call('HSET', KEYS[5], unpack(ARGV, 18))
redis.call('ZADD', queue, now, id)
redis.call('ZADD', KEYS[8], now, id)
if status == 'approved' then
  redis.call('ZADD', KEYS[9], now, id)
  if known ~= '' then
    redis.call('SADD', KEYS[10], known)
    redis.call('SADD', KEYS[14], 'c:' .. id, 'k:' .. known)
  end
elseif known ~= '' then
  redis.call('SADD', KEYS[14], 'c:' .. id)
end
if status == 'spam' then redis.call('ZADD', KEYS[15], now, id) end
if ARGV[6] == '1' then redis.call('SET', KEYS[2], id, 'EX', ARGV[7]) end
if (status == 'pending' and ARGV[16] == '1') or
    (status == 'approved' and ARGV[17] == '1') then
  redis.call('XADD', KEYS[13], '*', 'event', status, 'id', id)
end
return {'stored', id, status}
