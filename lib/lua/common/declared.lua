-- declared(base, who): the key-naming function of a script that takes
-- every key in KEYS: key(name) is base .. name, and a name whose key is
-- not in KEYS is an error, so that the script touches no key it was not
-- given (the Redis Cluster rule).  A script reads and names its keys
-- before it writes, so that a refusal leaves nothing half-written.

local function declared(base, who)
  local known = {}
  for _, k in ipairs(KEYS) do known[k] = true end
  return function(name)
    local k = base .. name
    if not known[k] then error(who .. ': ' .. k .. ' is not in KEYS') end
    return k
  end
end
