-- Drop.  KEYS: outbox:retry outbox:dead.  ARGV: key_base nid.
--! needs: email_key forget

local n = redis.call('ZREM', KEYS[2], ARGV[2]) + redis.call('ZREM', KEYS[1], ARGV[2])
local base = ARGV[1]
local function key(name) return base .. name end
if n > 0 then forget_note(key, ARGV[2]) end
return n
