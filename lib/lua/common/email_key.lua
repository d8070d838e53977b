-- email_key(base, e): the name of the address's index {P}:email:SHA1
-- (of the lowercase address).  Shared by the scripts that need it: the
-- build puts this file in front of each script whose "--! needs:" names it.

local function email_key(base, e)
  return base .. 'email:' .. redis.sha1hex(string.lower(e))
end
