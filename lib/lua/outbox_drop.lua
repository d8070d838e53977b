-- Drop.  KEYS: outbox:retry outbox:dead notification:NID privacy:notes
-- and, when the notification has an address (store_note_address, from
-- what the caller read: kind, to and email never change once made), that
-- address's email:SHA1; any other key is refused before anything is
-- written.  ARGV: key_base nid.
--! needs: email_key forget declared

local nid = ARGV[2]
if not redis.call('ZSCORE', KEYS[2], nid) and
   not redis.call('ZSCORE', KEYS[1], nid) then return 0 end
forget_note(declared(ARGV[1], 'outbox_drop'), nid)
return redis.call('ZREM', KEYS[2], nid) + redis.call('ZREM', KEYS[1], nid)
