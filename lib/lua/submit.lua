-- Submit.  KEYS: captcha request dup:email comment queue post published
-- stats known_authors queue:approved flood:ip flood:email outbox dup:ip.
-- ARGV: check_captcha answer now_ms min_solve_ms id status request_id
-- request_ttl dup_window comment_key_base known_author ip_limit ip_window
-- email_limit email_window has_ip dup_ip_ttl key_base, then field/value
-- pairs.
-- The request_id comes first so that a retried request whose captcha is
-- already spent still gets its comment's id.  The IP is counted before
-- the captcha (failures from one network count too), the e-mail address
-- only after it passed: an address is anyone's to type, and posts that
-- fail the captcha must not lock its owner out.  An address already over
-- its limit is refused before the captcha, so a refusal spends none.  A duplicate is the same
-- text on the same post from the same e-mail address or the same IP, as
-- WordPress counts it; other readers may say "Danke!" too.  An author is
-- known by e-mail and name together (WordPress's "comment author must
-- have a previously approved comment"): the lookup is here, not in
-- heinzeld, so that it sees every approval made before it.  The outbox
-- event is written here too: the comment and the promise to tell people
-- about it are one step.
--! needs: email_key

local now = tonumber(ARGV[3])
if ARGV[7] ~= '' then
  local prev = redis.call('GET', KEYS[2])
  if prev then
    local st = redis.call('HGET', ARGV[10] .. prev, 'status')
    return {'existing', prev, st or 'deleted'}
  end
end
local function flood(key, limit, window, which, peek)
  if tonumber(limit) == 0 then return nil end
  local n
  if peek then n = tonumber(redis.call('GET', key) or '0') + 1
  else n = redis.call('INCR', key) end
  local ttl = redis.call('TTL', key)
  if ttl < 0 and not peek then redis.call('EXPIRE', key, window); ttl = tonumber(window) end
  if n <= tonumber(limit) then return nil end
  redis.call('HINCRBY', KEYS[8], 'rate_limited_' .. which, 1)
  return {'rate_limited', which, tostring(ttl)}
end
local limited = flood(KEYS[11], ARGV[12], ARGV[13], 'ip', false) or
  flood(KEYS[12], ARGV[14], ARGV[15], 'email', true)
if limited then return limited end
if ARGV[1] == '1' then
  local v = redis.call('GETDEL', KEYS[1])
  local why = nil
  if not v then why = 'unknown' else
    local ans, issued = string.match(v, '^(%d+) (%d+)$')
    if not ans then why = 'unknown'
    elseif tonumber(ans) ~= tonumber(ARGV[2]) then why = 'wrong'
    elseif now - tonumber(issued) < tonumber(ARGV[4]) then why = 'too_fast' end
  end
  if why then
    redis.call('HINCRBY', KEYS[8], 'captcha_' .. why, 1)
    return {'captcha', why}
  end
end
limited = flood(KEYS[12], ARGV[14], ARGV[15], 'email', false)
if limited then return limited end
local dup = tonumber(ARGV[9]) > 0
if dup then
  local d = redis.call('GET', KEYS[3])
  if not d and ARGV[16] == '1' then d = redis.call('GET', KEYS[14]) end
  if d then
    redis.call('HINCRBY', KEYS[8], 'duplicate', 1)
    return {'duplicate', d}
  end
end
redis.call('HSET', KEYS[4], unpack(ARGV, 19))
local status, queue = ARGV[6], KEYS[5]
local a = redis.call('HMGET', KEYS[4], 'email', 'author')
local known = a[1] and a[1] ~= '' and redis.sha1hex(string.lower(a[1]) .. '\n' .. string.lower(a[2] or ''))
if status == 'approved' then
  redis.call('HSET', KEYS[4], 'moderated_by', 'auto_approve', 'moderated_at', ARGV[3])
elseif ARGV[11] == '1' and known and redis.call('SISMEMBER', KEYS[9], known) == 1 then
  status, queue = 'approved', KEYS[10]
  redis.call('HSET', KEYS[4], 'status', status, 'moderated_by', 'auto_approve known_author', 'moderated_at', ARGV[3])
end
redis.call('ZADD', queue, now, ARGV[5])
redis.call('ZADD', KEYS[6], now, ARGV[5])
if status == 'approved' then
  redis.call('ZADD', KEYS[7], now, ARGV[5])
  if known then redis.call('SADD', KEYS[9], known) end
end
if known then
  local ek = email_key(ARGV[18], a[1])
  redis.call('SADD', ek, 'c:' .. ARGV[5])
  if status == 'approved' then redis.call('SADD', ek, 'k:' .. known) end
end
if status == 'spam' then redis.call('ZADD', ARGV[18] .. 'privacy:refused', now, ARGV[5]) end
if ARGV[7] ~= '' then redis.call('SET', KEYS[2], ARGV[5], 'EX', ARGV[8]) end
if dup then
  redis.call('SET', KEYS[3], ARGV[5], 'EX', ARGV[9])
  if ARGV[16] == '1' then redis.call('SET', KEYS[14], ARGV[5], 'EX', ARGV[17]) end
end
redis.call('HINCRBY', KEYS[8], 'submitted_' .. status, 1)
if status ~= 'spam' then
  redis.call('XADD', KEYS[13], '*', 'event', status, 'id', ARGV[5])
end
return {'stored', ARGV[5], status}
