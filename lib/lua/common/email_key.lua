-- email_key(key, e): the name of the address's index {P}:email:SHA1 (of
-- the lowercase address), key(name) making {P}:name.  Shared by the
-- scripts that need it: the build puts this file in front of each script
-- whose "--! needs:" names it.

local function email_key(key, e)
  return key('email:' .. redis.sha1hex(string.lower(e)))
end
