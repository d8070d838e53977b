-- wanted(base): the key-gathering of a script that reads first to learn
-- which keys it needs, since it may touch only keys given in KEYS (the
-- Redis Cluster rule).  It returns need and asked.  need(name) is the
-- key base .. name if it is in KEYS, else nil; either way it is wanted.
-- asked() is nil if every key wanted so far is in KEYS, else the reply
-- {'need', KEY...} naming every key wanted so far (given or not), in the
-- order first wanted, with which the caller asks again.

local function wanted(base)
  local given, seen, want, missing = {}, {}, {}, false
  for _, k in ipairs(KEYS) do given[k] = k end
  local function need(name)
    local k = base .. name
    if not seen[k] then
      seen[k] = true
      want[#want + 1] = k
      if not given[k] then missing = true end
    end
    return given[k]
  end
  local function asked()
    if not missing then return nil end
    local r = {'need'}
    for _, k in ipairs(want) do r[#r + 1] = k end
    return r
  end
  return need, asked
end
