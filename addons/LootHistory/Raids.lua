-- LootHistory: recording raids: start, boss kills and end, each with an attendance snapshot.
local addonName, ns = ...

-- The raid's members now, from GetRaidRosterInfo, fully qualified and sorted.
function ns.RosterNames()
  local names = {}
  if IsInRaid() then
    for i = 1, GetNumGroupMembers() do
      local name = GetRaidRosterInfo(i)
      if name then names[#names + 1] = ns.FullName(name) end
    end
  end
  table.sort(names)
  return names
end

-- The newest raid that has not ended, or nil.
function ns.OpenRaid(state)
  for i = #state.raidOrder, 1, -1 do
    local raid = state.raids[state.raidOrder[i]]
    if not raid.ended then return raid end
  end
  return nil
end

-- The raid's newest boss kill (ledger order), or nil.
function ns.LastBoss(raid)
  return raid and raid.bosses[#raid.bosses] or nil
end

local function me() return ns.FullName(UnitName("player")) end

-- Submits the snapshot of `names` for the event `event_id` of raid `raid_id`, in as many
-- entries as the names need. -> number of names, or nil and why.
local function submit_attendance(raid_id, event_id, names)
  local packs = ns.PackNames(names)
  for part, fields in ipairs(packs) do
    local data = { raid = raid_id, event = event_id, part = part, parts = #packs }
    for i, text in ipairs(fields) do data["n" .. i] = text end
    local id, reason = ns.ledger:Submit("attendance", data)
    if not id then return nil, reason end
  end
  return #names
end

-- Attendance for a snapshot: the names given (`present`, an array: a raid recorded by someone
-- outside its group, or by an import) or else the raid's members now.
local function attendees(present)
  if not present then return ns.RosterNames() end
  local names = {}
  for i, name in ipairs(present) do names[i] = ns.FullName(name) end
  table.sort(names)
  return names
end

-- options = { name, difficulty, present } -> raid id and the number of raiders present, or nil
-- and why.
function ns.StartRaid(instance, options)
  local id, reason = ns.ledger:Submit("raidStart", {
    instance = instance, name = options.name, difficulty = options.difficulty,
    size = options.present and #options.present or (IsInRaid() and GetNumGroupMembers() or 0), by = me(),
  })
  if not id then return nil, reason end
  local present, why = submit_attendance(id, id, attendees(options.present))
  if not present then return nil, "raid started but attendance refused: " .. tostring(why) end
  return id, present
end

-- Records a boss kill in the open raid (or `raid_id`), attendance from `present` or the raid.
-- -> boss entry id and raiders present, or nil and why.
function ns.BossKill(state, boss, raid_id, present)
  local raid = raid_id and state.raids[raid_id] or ns.OpenRaid(state)
  if not raid then return nil, "no raid is running: /loot raid start <instance> first" end
  local id, reason = ns.ledger:Submit("boss", { raid = raid.id, boss = boss, instance = raid.instance, by = me() })
  if not id then return nil, reason end
  local count, why = submit_attendance(raid.id, id, attendees(present))
  if not count then return nil, "boss kill recorded but attendance refused: " .. tostring(why) end
  return id, count
end

-- Ends `raid` with a last attendance snapshot (from `present` or the raid). -> end entry id and
-- raiders present, or nil and why.
function ns.EndRaid(raid, present)
  if raid.ended then return nil, "that raid has already ended" end
  local id, reason = ns.ledger:Submit("raidEnd", { raid = raid.id, by = me() })
  if not id then return nil, reason end
  local count, why = submit_attendance(raid.id, id, attendees(present))
  if not count then return nil, "raid ended but attendance refused: " .. tostring(why) end
  return id, count
end

-- The names of an event's attendance snapshot -> names (array), complete (bool); nil when no
-- snapshot was recorded. An incomplete snapshot (a part missing) says so rather than hiding it.
function ns.SnapshotNames(state, event_id)
  local snap = event_id and state.snapshots[event_id]
  if not snap then return nil end
  local names = {}
  for part = 1, snap.parts do
    local list = snap.names[part]
    if list then
      for i = 1, #list do names[#names + 1] = list[i] end
    end
  end
  return names, snap.have == snap.parts
end
