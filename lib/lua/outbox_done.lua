-- Done.  KEYS: outbox stats.  ARGV: group entry_id key_base nid channel.
--! needs: email_key forget

redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
local base = ARGV[3]
local function key(name) return base .. name end
if ARGV[4] ~= '' then forget_note(key, ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HINCRBY', KEYS[2], 'notify_sent_' .. ARGV[5], 1) end
return 1
