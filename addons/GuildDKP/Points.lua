-- GuildDKP: points entries (awards, manual adjustments, decay) and their rules.
local _, ns = ...

local MAX_AMOUNT = 1000000
local MAX_NOTE = 120

local function isWhole(n, low, high)
  return type(n) == "number" and n == math.floor(n) and n >= low and n <= high
end
ns.isWhole = isWhole

local function checkNote(note, required)
  if note == nil then
    if required then return false, "a note saying why is required" end
    return true
  end
  if type(note) ~= "string" or #note > MAX_NOTE or strfind(note, "%c") then
    return false, "a note is text of at most " .. MAX_NOTE .. " bytes, without control characters"
  end
  if required and strtrim(note) == "" then return false, "a note saying why is required" end
  return true
end

local function checkReason(reason)
  if ns.reasonCode(reason) ~= reason then
    return false, "unknown reason '" .. tostring(reason) .. "' (one of " .. table.concat(ns.REASONS, ", ") .. ")"
  end
  return true
end

-- Every name must be a roster member or a linked alt (guards against typos at submit time).
local function checkKnown(names, state)
  for _, name in ipairs(names) do
    if not state.alts[name] and not ns.isMember(state, name) then
      return false, name .. " is not in the DKP roster (add with /dkp roster add " .. name .. " CLASS)"
    end
  end
  return true
end

-- Credits `amount` once to the main of every listed character, in sorted order of mains.
-- A main listed twice (or with an alt) is credited once.
local function creditList(state, e, names, amount, reason, note)
  local viaAlt, mains = {}, {}
  for _, name in ipairs(ns.sortedUnique(names)) do
    local main = ns.mainOf(state, name)
    if main ~= name and not viaAlt[main] then viaAlt[main] = name end
    mains[#mains + 1] = main
  end
  for _, main in ipairs(ns.sortedUnique(mains)) do
    local text = note
    if viaAlt[main] then text = (note and (note .. "; ") or "") .. "as " .. viaAlt[main] end
    ns.credit(state, e, main, amount, reason, text)
  end
end

------------------------------------------------------------------------------------------------
-- "award" { amount, reason, kind, note?, n1.. = names, part?, parts?, batch? }
-- kind: "player" (named characters), "raid" (the raid at submit time) or "standby" (the
-- bench). A list too long for one entry is split: part i of parts, batch = the first part's id.

local KINDS = { player = true, raid = true, standby = true }

ns.defineEntry("award", {
  right = "officer",
  validate = function(data)
    if not isWhole(data.amount, 1, MAX_AMOUNT) then return false, "an award is a whole number of points, 1.." .. MAX_AMOUNT end
    local ok, reason = checkReason(data.reason)
    if not ok then return false, reason end
    if not KINDS[data.kind] then return false, "award kind must be player, raid or standby" end
    local names = ns.unpackList(data)
    if #names == 0 then return false, "an award needs at least one player" end
    for _, name in ipairs(names) do
      if not ns.isValidName(name) then return false, "'" .. name .. "' is not a character name" end
    end
    return checkNote(data.note)
  end,
  check = function(data, state) return checkKnown(ns.unpackList(data), state) end,
  apply = function(state, data, meta, e)
    local names = ns.unpackList(data)
    if #names == 0 and data.player then names[1] = data.player end  -- GuildDKP 0.1: { player }
    local kind = data.kind or "player"
    local part = ""
    if data.parts then
      part = string.format(" (part %d/%d%s)", data.part or 1, data.parts, data.batch and (" of " .. data.batch) or "")
    end
    e.summary = string.format("award %d %s to %d %s%s", data.amount, tostring(data.reason), #names,
      kind == "player" and "player(s)" or kind, part)
    creditList(state, e, names, data.amount, data.reason, data.note)
  end,
})

------------------------------------------------------------------------------------------------
-- "adjust" { player, amount (signed), reason, note }: a manual correction; the note is required.

ns.defineEntry("adjust", {
  right = "officer",
  validate = function(data)
    if not ns.isValidName(data.player) then return false, "an adjustment needs a player" end
    if not isWhole(data.amount, -MAX_AMOUNT, MAX_AMOUNT) or data.amount == 0 then
      return false, "an adjustment is a non-zero whole number of points"
    end
    local ok, reason = checkReason(data.reason)
    if not ok then return false, reason end
    return checkNote(data.note, true)
  end,
  check = function(data, state) return checkKnown({ data.player }, state) end,
  apply = function(state, data, meta, e)
    local main = ns.mainOf(state, data.player)
    e.summary = string.format("adjust %s %+d (%s): %s", main, data.amount, data.reason, data.note)
    ns.credit(state, e, main, data.amount, data.reason, data.note)
  end,
})

------------------------------------------------------------------------------------------------
-- "spend" { player, amount, item }: GuildDKP 0.1's purchases, still replayed from old
-- journals; new ones are refused (auctions and adjustments replace them).

ns.defineEntry("spend", {
  right = "officer",
  validate = function() return false, "spend entries are from GuildDKP 0.1: use /dkp auction or /dkp adjust" end,
  apply = function(state, data, meta, e)
    local main = ns.mainOf(state, data.player)
    e.summary = string.format("spend %d by %s on %s", data.amount, main, tostring(data.item))
    ns.credit(state, e, main, -data.amount, "loot", data.item)
  end,
})

------------------------------------------------------------------------------------------------
-- "decay" { percent, rounding = "nearest", skipNegative? }: every balance loses `percent`.
-- Rule: taken = floor((|balance| * percent + 50) / 100), i.e. the amount taken is rounded to
-- the nearest point with halves taken, and carries the balance's sign, so a negative balance
-- moves toward zero by the same rule (unless skipNegative). Integers only: no drift.
-- Applied to mains in sorted name order. Decays from GuildDKP 0.1 (no rounding field) keep
-- their own rule when replayed: the kept balance rounded toward zero.

function ns.decayTaken(balance, percent, rounding)
  local magnitude = balance < 0 and -balance or balance
  local taken
  if rounding == "nearest" then
    taken = math.floor((magnitude * percent + 50) / 100)
  else
    taken = magnitude - math.floor(magnitude * (100 - percent) / 100)
  end
  if balance < 0 then return -taken end
  return taken
end

ns.defineEntry("decay", {
  right = "officer",
  validate = function(data)
    if not isWhole(data.percent, 1, 100) then return false, "decay percent must be a whole number 1..100" end
    if data.rounding ~= "nearest" then return false, "decay rounding must be \"nearest\"" end
    if data.skipNegative ~= nil and type(data.skipNegative) ~= "boolean" then return false, "skipNegative is true or false" end
    return true
  end,
  apply = function(state, data, meta, e)
    e.summary = string.format("decay %d%%%s", data.percent, data.skipNegative and " (negative balances kept)" or "")
    local mains = {}
    for main, balance in pairs(state.points) do
      if balance ~= 0 and not (data.skipNegative and balance < 0) then mains[#mains + 1] = main end
    end
    table.sort(mains)
    local note = data.percent .. "%"
    for _, main in ipairs(mains) do
      ns.credit(state, e, main, -ns.decayTaken(state.points[main], data.percent, data.rounding), "decay", note)
    end
  end,
})
