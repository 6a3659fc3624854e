-- GuildDKP: the DKP roster (members with class) and alts linked to mains.
local _, ns = ...

local CLASSES = { WARRIOR = true, PALADIN = true, HUNTER = true, ROGUE = true, PRIEST = true,
  SHAMAN = true, MAGE = true, WARLOCK = true, DRUID = true, DEATHKNIGHT = true, MONK = true,
  DEMONHUNTER = true, EVOKER = true, UNKNOWN = true }
ns.CLASSES = CLASSES

-- A character in the DKP roster (removed members are not).
function ns.isMember(state, name)
  return state.members[name] ~= nil and not state.inactive[name]
end

-- Where a character's points live: its main when it is a linked alt, else itself.
function ns.mainOf(state, name)
  return state.alts[name] or name
end

-- The alts linked to a main, sorted.
function ns.altsOf(state, main)
  local list = {}
  for alt, m in pairs(state.alts) do
    if m == main then list[#list + 1] = alt end
  end
  table.sort(list)
  return list
end

------------------------------------------------------------------------------------------------
-- "member" { n1.. = "Name:CLASS,..." }: adds members or updates their class (several per entry).

local function parseMember(item)
  local name, class = strmatch(item, "^([^:]+):(%u+)$")
  if name and ns.isValidName(name) and CLASSES[class] then return name, class end
end

ns.defineEntry("member", {
  right = "officer",
  validate = function(data)
    local items = ns.unpackList(data)
    if #items == 0 then return false, "a roster entry needs at least one Name:CLASS" end
    for _, item in ipairs(items) do
      if not parseMember(item) then return false, "'" .. item .. "' is not Name:CLASS" end
    end
    return true
  end,
  apply = function(state, data, meta, e)
    local items = ns.unpackList(data)
    local shown = {}
    for _, item in ipairs(items) do
      local name, class = parseMember(item)
      if name then
        state.members[name] = class
        state.inactive[name] = nil
        if #shown < 5 then shown[#shown + 1] = name .. " (" .. class .. ")" end
      end
    end
    local more = #items > #shown and string.format(" and %d more", #items - #shown) or ""
    e.summary = "roster: added or updated " .. table.concat(shown, ", ") .. more
  end,
})

-- "member_remove" { name }: marks a member inactive; points and history stay.
ns.defineEntry("member_remove", {
  right = "officer",
  validate = function(data)
    if not ns.isValidName(data.name) then return false, "a roster removal needs a name" end
    return true
  end,
  check = function(data, state)
    if not ns.isMember(state, data.name) then return false, data.name .. " is not in the DKP roster" end
    return true
  end,
  apply = function(state, data, meta, e)
    if state.members[data.name] then state.inactive[data.name] = true end
    e.summary = "roster: removed " .. data.name
  end,
})

------------------------------------------------------------------------------------------------
-- "alt" { alt, main }: the alt's points move to the main; later awards to the alt go there.
-- A main that is itself an alt resolves to its own main (one level only), and alts of the
-- character being linked follow it to the new main.

local function linkValidate(data)
  if not ns.isValidName(data.alt) or not ns.isValidName(data.main) then return false, "alt and main must be names" end
  if data.alt == data.main then return false, "a character cannot be its own alt" end
  return true
end

ns.defineEntry("alt", {
  right = "officer",
  validate = linkValidate,
  check = function(data, state)
    if not ns.isMember(state, data.main) then return false, data.main .. " is not in the DKP roster" end
    if ns.mainOf(state, data.main) == data.alt then return false, data.main .. " is an alt of " .. data.alt end
    return true
  end,
  apply = function(state, data, meta, e)
    local alt, main = data.alt, ns.mainOf(state, data.main)
    e.summary = "linked " .. alt .. " to " .. main
    if main == alt then
      e.summary = "not linked: " .. data.main .. " is an alt of " .. alt
      return
    end
    for _, other in ipairs(ns.altsOf(state, alt)) do state.alts[other] = main end
    state.alts[alt] = main
    local moved = state.points[alt] or 0
    if moved ~= 0 then
      ns.credit(state, e, alt, -moved, "linking", "moved to " .. main)
      ns.credit(state, e, main, moved, "linking", "from alt " .. alt)
    end
    state.points[alt] = nil
  end,
})

-- "unalt" { alt }: the alt stands alone again, starting at 0; earned points stay on the main.
ns.defineEntry("unalt", {
  right = "officer",
  validate = function(data)
    if not ns.isValidName(data.alt) then return false, "unlinking needs an alt name" end
    return true
  end,
  check = function(data, state)
    if not state.alts[data.alt] then return false, data.alt .. " is not linked to a main" end
    return true
  end,
  apply = function(state, data, meta, e)
    local main = state.alts[data.alt]
    state.alts[data.alt] = nil
    e.summary = "unlinked " .. data.alt .. (main and (" from " .. main) or "")
  end,
})
