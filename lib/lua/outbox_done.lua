-- Done.  KEYS: outbox stats, and with a notification (nid not empty)
-- notification:NID privacy:notes and, when it has an address
-- (store_note_address), that address's email:SHA1.  A notification's
-- kind, to and email never change once made, so the keys the caller named
-- from what it loaded are the ones forget_note needs; any other is refused
-- before anything is written.  ARGV: group entry_id key_base nid channel.
--! needs: email_key forget declared

if ARGV[4] ~= '' then forget_note(declared(ARGV[3], 'outbox_done'), ARGV[4]) end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
if ARGV[5] ~= '' then redis.call('HINCRBY', KEYS[2], 'notify_sent_' .. ARGV[5], 1) end
return 1
