-- GuildDKP: /dkp commands for the roster, alts and the bench.
local _, ns = ...

------------------------------------------------------------------------------------------------
-- Roster

local rosterCommands = {}

function rosterCommands.add(name, class)
  name = ns.normalizeName(name)
  class = class and strupper(class)
  if not name or not class then return ns.say("/dkp roster add <name> <CLASS>") end
  local id = ns.submit("member", { n1 = name .. ":" .. class }, true)
  if id then ns.say(string.format("%s (%s) is in the DKP roster   [%s]", name, class, id)) end
end

function rosterCommands.remove(name)
  name = ns.normalizeName(name)
  if not name then return ns.say("/dkp roster remove <name>") end
  local id = ns.submit("member_remove", { name = name }, true)
  if id then ns.say(name .. " removed from the DKP roster (points kept)   [" .. id .. "]") end
end

-- Guild members missing from the DKP roster, or listed there with another class.
local function guildDifferences(state)
  local add, changed = {}, {}
  for _, g in ipairs(ns.guild.members()) do
    if not state.alts[g.name] then
      if not ns.isMember(state, g.name) then add[#add + 1] = g
      elseif state.members[g.name] ~= g.class then changed[#changed + 1] = g end
    end
  end
  return add, changed
end

function rosterCommands.import()
  local state = ns.state()
  local add, changed = guildDifferences(state)
  local items = {}
  for _, list in ipairs({ add, changed }) do
    for _, g in ipairs(list) do items[#items + 1] = g.name .. ":" .. (ns.CLASSES[g.class or ""] and g.class or "UNKNOWN") end
  end
  if #items == 0 then return ns.say("the DKP roster already matches the guild") end
  for _, chunk in ipairs(ns.packList(items)) do
    if not ns.submit("member", chunk, true) then return end
  end
  ns.say(string.format("imported %d new and %d changed member(s) from the guild roster", #add, #changed))
end

function rosterCommands.check()
  local state = ns.state()
  local add, changed = guildDifferences(state)
  for _, g in ipairs(add) do print("  not in the DKP roster: " .. g.name .. " (" .. tostring(g.class) .. ")") end
  for _, g in ipairs(changed) do
    print(string.format("  class differs: %s is %s in the guild, %s in the DKP roster", g.name, tostring(g.class), state.members[g.name]))
  end
  local outside = {}
  for name in pairs(state.members) do
    if ns.isMember(state, name) and not ns.guild.byName(name) then outside[#outside + 1] = name end
  end
  table.sort(outside)
  for _, name in ipairs(outside) do print("  not in the guild: " .. name) end
  ns.say(string.format("roster check: %d missing, %d class differences, %d outside the guild", #add, #changed, #outside))
end

-- The DKP roster with each member's class, alt links and guild rank (read from the game).
function rosterCommands.list()
  local state = ns.state()
  local names = {}
  for name in pairs(state.members) do
    if ns.isMember(state, name) then names[#names + 1] = name end
  end
  table.sort(names)
  ns.say(#names .. " member(s) in the DKP roster")
  for _, name in ipairs(names) do
    local alts = ns.altsOf(state, name)
    local main = state.alts[name]
    local guildMember = ns.guild.byName(name)
    print(string.format("  %-12s %-8s%s%s  [%s]", name, state.members[name], main and ("  alt of " .. main) or "",
      #alts > 0 and ("  alts: " .. table.concat(alts, ", ")) or "",
      guildMember and tostring(guildMember.rankName) or "not in the guild"))
  end
end

local function alt(altName, mainName)
  altName, mainName = ns.normalizeName(altName), ns.normalizeName(mainName)
  if not altName or not mainName then return ns.say("/dkp alt <alt> <main>") end
  local id = ns.submit("alt", { alt = altName, main = mainName }, true)
  if id then ns.say(string.format("%s is an alt of %s   [%s]", altName, mainName, id)) end
end

local function unalt(altName)
  altName = ns.normalizeName(altName)
  if not altName then return ns.say("/dkp unalt <alt>") end
  local id = ns.submit("unalt", { alt = altName }, true)
  if id then ns.say(altName .. " is no longer an alt   [" .. id .. "]") end
end

-- The bench is this officer's list (saved per character); the award entry records its names.
local function bench(action, names)
  local list = GuildDKP_Local.bench
  if action == "add" or action == "remove" then
    for _, name in ipairs(ns.nameList(names)) do
      local at
      for i, n in ipairs(list) do
        if n == name then at = i end
      end
      if action == "add" and not at then list[#list + 1] = name end
      if action == "remove" and at then table.remove(list, at) end
    end
    table.sort(list)
  elseif action == "clear" then
    wipe(list)
  end
  ns.say("bench: " .. (#list > 0 and table.concat(list, ", ") or "(empty)"))
end

------------------------------------------------------------------------------------------------
-- Registration

local c = ns.commands
c.roster = function(w)
  local handler = rosterCommands[strlower(w[1] or "list")]
  if not handler then return ns.say("/dkp roster [add <name> <CLASS> | remove <name> | import | check]") end
  handler(w[2], w[3])
end
c.alt = function(w) alt(w[1], w[2]) end
c.unalt = function(w) unalt(w[1]) end
c.bench = function(w, line) bench(w[1] and strlower(w[1]), strmatch(line, "^%S+%s+(.+)$")) end
