-- LootHistory: read-only questions over the state: references, a player's loot, an item's
-- owners, a raid's loot, loot counts over a period, the last item of a slot.
local addonName, ns = ...

------------------------------------------------------------------------------------------------
-- References typed by people: a full entry id, "#n" (position in the list), or "last"

local function resolve(map, order, ref, what)
  if type(ref) ~= "string" or ref == "" then return nil, "which " .. what .. "? (an id, #n or last)" end
  if map[ref] then return map[ref] end
  local n = ref == "last" and #order or tonumber(string.match(ref, "^#(%d+)$"))
  if n and order[n] then return map[order[n]] end
  return nil, "no " .. what .. " " .. ref
end

function ns.ResolveLoot(state, ref) return resolve(state.loot, state.lootOrder, ref, "loot") end
function ns.ResolveDrop(state, ref) return resolve(state.drops, state.dropOrder, ref, "drop") end

-- A raid reference; nil or "current" is the open raid, or else the newest one.
function ns.ResolveRaid(state, ref)
  if ref == nil or ref == "current" then
    local raid = ns.OpenRaid(state) or state.raids[state.raidOrder[#state.raidOrder]]
    if raid then return raid end
    return nil, "no raid recorded yet"
  end
  return resolve(state.raids, state.raidOrder, ref, "raid")
end

------------------------------------------------------------------------------------------------
-- Queries. Lists come back in ledger order.

local function each_loot(state, keep)
  local out = {}
  for i = 1, #state.lootOrder do
    local loot = state.loot[state.lootOrder[i]]
    if keep(loot) then out[#out + 1] = loot end
  end
  return out
end

-- A player's loot: what they hold now, and what was reassigned away from them.
-- -> held (array of loot), lost (array of loot)
function ns.PlayerLoot(state, player)
  local name = ns.FullName(player)
  local held = each_loot(state, function(loot) return loot.winner == name end)
  local lost = each_loot(state, function(loot)
    if loot.winner == name then return false end
    if loot.originalWinner == name then return true end
    for i = 1, #loot.history do
      if loot.history[i].to == name then return true end
    end
    return false
  end)
  return held, lost
end

-- Everyone who received an item: `item` is an id (number) or a name (any case).
function ns.ItemOwners(state, item)
  local lower = type(item) == "string" and string.lower(item)
  return each_loot(state, function(loot)
    if lower then return string.lower(loot.name) == lower end
    return loot.item == item
  end)
end

function ns.RaidLoot(state, raid)
  local out = {}
  for i = 1, #raid.loot do out[#out + 1] = state.loot[raid.loot[i]] end
  return out
end

local function in_period(time, since, upto)
  return (not since or time >= since) and (not upto or time <= upto)
end

-- Loot per player in [since, upto] (either may be nil), for fairness: items kept (disenchanted
-- ones do not count; a reassigned one counts for its current holder) and raids attended
-- (named in any snapshot of a raid started in the period).
-- -> rows { name, items, raids }, most items first, then fewest raids, then by name.
function ns.LootCounts(state, since, upto)
  local rows, by_name = {}, {}
  local function row(name)
    local r = by_name[name]
    if not r then
      r = { name = name, items = 0, raids = 0 }
      by_name[name] = r
      rows[#rows + 1] = r
    end
    return r
  end
  for i = 1, #state.lootOrder do
    local loot = state.loot[state.lootOrder[i]]
    if not loot.disenchanted and in_period(loot.time, since, upto) then
      local r = row(loot.winner)
      r.items = r.items + 1
    end
  end
  for i = 1, #state.raidOrder do
    local raid = state.raids[state.raidOrder[i]]
    if in_period(raid.started, since, upto) then
      for _, name in ipairs(ns.RaidAttendees(state, raid)) do
        local r = row(name)
        r.raids = r.raids + 1
      end
    end
  end
  table.sort(rows, function(a, b)
    if a.items ~= b.items then return a.items > b.items end
    if a.raids ~= b.raids then return a.raids < b.raids end
    return a.name < b.name
  end)
  return rows
end

-- Everyone named in any of a raid's snapshots (start, boss kills, end), sorted.
function ns.RaidAttendees(state, raid)
  local seen, names = {}, {}
  local events = { raid.id, raid.endEvent }
  for i = 1, #raid.bosses do events[#events + 1] = raid.bosses[i].id end
  for _, event in ipairs(events) do
    for _, name in ipairs(ns.SnapshotNames(state, event) or {}) do
      if not seen[name] then
        seen[name] = true
        names[#names + 1] = name
      end
    end
  end
  table.sort(names)
  return names
end

-- The newest item of `slot` a player holds (not disenchanted), or nil.
function ns.LastOfSlot(state, player, slot)
  local name, wanted = ns.FullName(player), string.lower(slot or "")
  for i = #state.lootOrder, 1, -1 do
    local loot = state.loot[state.lootOrder[i]]
    if loot.winner == name and loot.slot == wanted and not loot.disenchanted then return loot end
  end
  return nil
end

------------------------------------------------------------------------------------------------
-- The queries by name, registered on the ledger's Tally.Model (Ledger.lua) in this order. The
-- slash commands and the global LootHistory API ask them through ns.Ask.

ns.QUERIES = {
  { "playerLoot", ns.PlayerLoot }, { "itemOwners", ns.ItemOwners }, { "raidLoot", ns.RaidLoot },
  { "lootCounts", ns.LootCounts }, { "lastOfSlot", ns.LastOfSlot }, { "raidAttendance", ns.SnapshotNames },
}

-- ns.Ask(name, ...) -> the query's results over the caught-up state; an error while the state
-- is not ready (not loaded, or too far behind to catch up within a frame).
function ns.Ask(name, ...)
  assert(ns.CurrentState())
  return ns.model:Ask(name, ...)
end
