-- Transition.  KEYS: comment stats, then every other key the change can
-- touch: queue:pending queue:approved queue:spam queue:rejected
-- privacy:refused known_authors outbox rulestats rulestats:TODAY, and
-- from what the caller read of the comment (store_cmd_transition_read)
-- post:POST published:POST, email:SHA1 and rulestats:DAY of its
-- "counted".  A key the comment now needs that is not among them means it
-- changed since: the reply is {'retry'} and nothing is written, so that
-- the script never touches a key not in KEYS (the Redis Cluster rule).
-- ARGV: action actor now_ms key_base from hold_score reject_score
-- rulestats_ttl: from, when not empty, lists the states the caller
-- accepts to move from (a compare-and-set); the scores are the ones the
-- per-rule counts judge "over hold" and "over reject" by (below),
-- rulestats_ttl how long a day's counts are kept (seconds).  The allowed
-- moves are a table so that the rule lives in one place.  A conflict
-- names who moved the comment last, so that the loser of a race can be
-- told.  Refusing a comment starts its e-mail address's [privacy]
-- refused_email_keep; approving one makes the address's known_authors
-- entry findable by it.
--! needs: email_key forget

-- Per-rule decided counts.  A moderator's decision labels the comment's
-- hits: in {P}:rulestats (all time) and {P}:rulestats:DAY (the UTC day
-- number of the decision, kept ARGV[8] seconds) each hit adds
-- to "published NAME" or "refused NAME", and on a published comment to
-- "over_hold NAME" / "over_reject NAME" when without the hit's points the
-- comment would have stayed under hold_score / reject_score; "published"
-- and "refused" alone count the comments.  The comment's "counted" field
-- ("OUTCOME DAY HOLD REJECT") records what was added, so that a later
-- change of decision takes exactly that back before adding the new one,
-- and the same decision again adds nothing.
local function rulestats(key, ckey, to, now, hold, reject)
  local outcome
  if to == 'approved' then outcome = 'published'
  elseif to == 'spam' or to == 'rejected' then outcome = 'refused'
  else return end
  local f = redis.call('HMGET', ckey, 'counted', 'hits', 'score')
  local was, wday, whold, wreject =
    string.match(f[1] or '', '^(%a+) (%d+) (%S+) (%S+)$')
  if was == outcome then return end
  local total = tonumber(f[3]) or 0
  local function add(day, o, h, r, n)
    local keys = {key('rulestats')}
    local dk = key('rulestats:' .. day)
    if n > 0 or redis.call('EXISTS', dk) == 1 then keys[2] = dk end
    local function incr(field)
      for _, k in ipairs(keys) do
        if redis.call('HINCRBY', k, field, n) <= 0 then redis.call('HDEL', k, field) end
      end
    end
    incr(o)
    for name, pts in string.gmatch(f[2] or '', '([^%s=]+)=(%S+)') do
      local p = tonumber(pts) or 0
      incr(o .. ' ' .. name)
      if o == 'published' and p > 0 then
        if total >= h and total - p < h then incr('over_hold ' .. name) end
        if total >= r and total - p < r then incr('over_reject ' .. name) end
      end
    end
    if n > 0 then redis.call('EXPIRE', dk, ARGV[8]) end
  end
  if was then add(wday, was, tonumber(whold), tonumber(wreject), -1) end
  local day = tostring(math.floor(now / 86400000))
  add(day, outcome, tonumber(hold), tonumber(reject), 1)
  redis.call('HSET', ckey, 'counted', outcome .. ' ' .. day .. ' ' .. hold .. ' ' .. reject)
end

local base, declared = ARGV[4], {}
for _, k in ipairs(KEYS) do declared[k] = true end
local function key(name)
  local k = base .. name
  if not declared[k] then error('transition: ' .. k .. ' is not in KEYS') end
  return k
end

local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {'not_found'} end
local allowed = {
  approve = {pending = 'approved', spam = 'approved', rejected = 'approved'},
  reject = {pending = 'rejected', spam = 'rejected'},
  spam = {pending = 'spam', approved = 'spam', rejected = 'spam'},
  delete = {pending = '', approved = '', spam = '', rejected = ''},
  unpublish = {approved = 'rejected'},
}
local to = allowed[ARGV[1]][st]
if to and ARGV[5] and ARGV[5] ~= '' then
  local ok = false
  for s in string.gmatch(ARGV[5], '%S+') do if s == st then ok = true end end
  if not ok then to = nil end
end
if not to then
  local m = redis.call('HMGET', KEYS[1], 'moderated_by', 'moderated_at')
  return {'conflict', st, m[1] or '', m[2] or ''}
end
local f = redis.call('HMGET', KEYS[1], 'id', 'post', 'created_at', 'email',
  'author', 'counted')
local id, post, created = f[1], f[2], f[3]
local need = {}
if post then
  need[#need + 1] = 'post:' .. post
  need[#need + 1] = 'published:' .. post
end
if f[4] and f[4] ~= '' then
  need[#need + 1] = 'email:' .. redis.sha1hex(string.lower(f[4]))
end
local wday = string.match(f[6] or '', '^%a+ (%d+) ')
if wday then need[#need + 1] = 'rulestats:' .. wday end
for _, n in ipairs(need) do
  if not declared[base .. n] then return {'retry'} end
end
redis.call('ZREM', key('queue:' .. st), id)
if st == 'approved' then redis.call('ZREM', key('published:' .. post), id) end
if to == '' then
  forget(key, id)
  redis.call('HINCRBY', KEYS[2], 'deleted', 1)
  return {'done', st, ''}
end
redis.call('HSET', KEYS[1], 'status', to, 'moderated_by', ARGV[2], 'moderated_at', ARGV[3])
redis.call('ZADD', key('queue:' .. to), created, id)
if to == 'approved' then
  redis.call('ZADD', key('published:' .. post), created, id)
  redis.call('ZREM', key('privacy:refused'), id)
  if f[4] and f[4] ~= '' then
    local known = redis.sha1hex(string.lower(f[4]) .. '\n' .. string.lower(f[5] or ''))
    redis.call('SADD', key('known_authors'), known)
    redis.call('SADD', email_key(key, f[4]), 'k:' .. known)
  end
  redis.call('XADD', key('outbox'), '*', 'event', 'approved', 'id', id)
elseif to == 'spam' or to == 'rejected' then
  redis.call('ZADD', key('privacy:refused'), ARGV[3], id)
end
rulestats(key, KEYS[1], to, tonumber(ARGV[3]), ARGV[6], ARGV[7])
redis.call('HINCRBY', KEYS[2], 'moderated_' .. to, 1)
return {'done', st, to}
