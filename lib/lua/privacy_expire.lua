-- Expire.  KEYS: queue:pending queue:approved queue:spam queue:rejected
-- privacy:ip_mark privacy:notes privacy:refused stats privacy:index
-- known_authors, then the keys the batch needs (below).  ARGV: key_base
-- ip_before_ms email_before_ms limit now_ms.  A comment's referrer goes
-- with its IP and user agent: it is the same kind of request data.  The
-- queues hold every comment by created_at, so the IPs to erase are those
-- from the mark (exclusive) up to ip_before_ms; after a full batch the
-- mark stops just before the last time seen, so that comments sharing
-- that millisecond are not skipped.  A refused comment rescued since keeps
-- its address.  Comments stored before the e-mail index existed are
-- entered in it (and, if refused, in privacy:refused) by a walk of their
-- own: privacy:index holds "until", from the first run's now_ms (the start
-- of the heinzeld that runs it: later comments were indexed when stored),
-- and "mark", how far the walk got.
-- Which comments and notifications a batch touches only Redis knows: the
-- script first runs the batch dry, reading only through KEYS and writing
-- nothing; when it wants a key it was not given the reply is {'need',
-- KEY...}, every key besides the ten first the batch wants, and the
-- caller asks again with them.  A comment the walk of the index enters in
-- privacy:refused during the batch is one the dry run did not see: if its
-- keys are not given it is left for the next batch.
--! needs: email_key wanted

local base, limit = ARGV[1], tonumber(ARGV[4])
local ipcut = tonumber(ARGV[2])
local need, asked = wanted(base)
local function ms(v) return string.format('%.0f', v) end

local function batch(dry)
  local ips, notes, mails, more = 0, 0, 0, 0
  local function walk(from, to, each)
    local upto = to
    for i = 1, 4 do
      local r = redis.call('ZRANGEBYSCORE', KEYS[i], '(' .. ms(from), ms(to), 'WITHSCORES', 'LIMIT', 0, limit)
      for j = 1, #r, 2 do each(r[j]) end
      if #r >= 2 * limit then
        more = 1
        local last = tonumber(r[#r]) - 1
        if last < upto then upto = last end
      end
    end
    if upto <= from then upto = from + 1 end
    return ms(upto)
  end
  local mark = tonumber(redis.call('GET', KEYS[5]) or '0')
  if ipcut > mark then
    local upto = walk(mark, ipcut, function(id)
      local ck = need('comment:' .. id)
      if ck and not dry and redis.call('HDEL', ck, 'ip', 'user_agent', 'referrer') > 0 then
        ips = ips + 1
      end
    end)
    if not dry then redis.call('SET', KEYS[5], upto) end
  end
  local ix = redis.call('HMGET', KEYS[9], 'until', 'mark')
  if not ix[1] then
    ix = {ARGV[5], '0'}
    if not dry then redis.call('HSET', KEYS[9], 'until', ARGV[5], 'mark', '0') end
  end
  if tonumber(ix[2]) < tonumber(ix[1]) then
    local upto = walk(tonumber(ix[2]), tonumber(ix[1]), function(id)
      local ck = need('comment:' .. id)
      if not ck then return end
      local f = redis.call('HMGET', ck, 'email', 'author', 'status', 'created_at', 'moderated_at')
      if not f[1] or f[1] == '' then return end
      local ek = email_key(need, f[1])
      if dry then return end
      redis.call('SADD', ek, 'c:' .. id)
      local known = redis.sha1hex(string.lower(f[1]) .. '\n' .. string.lower(f[2] or ''))
      if redis.call('SISMEMBER', KEYS[10], known) == 1 then
        redis.call('SADD', ek, 'k:' .. known)
      end
      if f[3] == 'spam' or f[3] == 'rejected' then
        redis.call('ZADD', KEYS[7], 'NX', f[5] or f[4] or ARGV[5], id)
      end
    end)
    if not dry then redis.call('HSET', KEYS[9], 'mark', upto) end
  end
  local nids = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', ARGV[2], 'LIMIT', 0, limit)
  for _, nid in ipairs(nids) do
    local nk = need('notification:' .. nid)
    if nk and not dry then
      if redis.call('HDEL', nk, 'ip', 'user_agent') > 0 then notes = notes + 1 end
      redis.call('ZREM', KEYS[6], nid)
    end
  end
  if #nids >= limit then more = 1 end
  local ids = redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', ARGV[3], 'LIMIT', 0, limit)
  for _, id in ipairs(ids) do
    local ck = need('comment:' .. id)
    local f = ck and redis.call('HMGET', ck, 'status', 'email') or {}
    local ek = true
    if (f[1] == 'spam' or f[1] == 'rejected') and f[2] and f[2] ~= '' then
      ek = email_key(need, f[2])
    end
    if not (ck and ek) then
      more = 1		-- entered by this batch's walk: the next batch's
    elseif not dry then
      if (f[1] == 'spam' or f[1] == 'rejected') and f[2] then
        redis.call('HDEL', ck, 'email')
        if f[2] ~= '' then redis.call('SREM', ek, 'c:' .. id) end
        mails = mails + 1
      end
      redis.call('ZREM', KEYS[7], id)
    end
  end
  if #ids >= limit then more = 1 end
  if dry then return end
  if ips + notes > 0 then redis.call('HINCRBY', KEYS[8], 'privacy_ip_erased', ips + notes) end
  if mails > 0 then redis.call('HINCRBY', KEYS[8], 'privacy_email_erased', mails) end
  return {ips, notes, mails, more}
end

batch(true)
local ask = asked()
if ask then return ask end
return batch(false)
