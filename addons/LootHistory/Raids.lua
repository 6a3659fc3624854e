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

-- Attendance snapshots are a saga. A raid start, boss kill or raid end is written first (its
-- snapshot names the event's entry id, known only once it is written); when it is applied, the
-- client that recorded it writes the snapshot, exactly once: not again after a rewind or a
-- reload, never by another client. The names are those of the moment the event was recorded,
-- kept in LootHistoryDB.attendance until the saga acts (the raid's members when it acts if
-- they were lost with a crash).
function ns.DefineAttendance(model)
  model:Command("attendance", {
    args = { raid = "string", event = "string", names = "table" },
    handler = function(state, args, emit)
      local packs = ns.PackNames(args.names)
      for part, fields in ipairs(packs) do
        local data = { raid = args.raid, event = args.event, part = part, parts = #packs }
        for i, text in ipairs(fields) do data["n" .. i] = text end
        emit("attendance", data)
      end
    end,
  })
  local function snapshot(state, data, meta)
    local names = LootHistoryDB.attendance[meta.id] or ns.RosterNames()
    LootHistoryDB.attendance[meta.id] = nil
    return "attendance", { raid = data.raid or meta.id, event = meta.id, names = names }
  end
  model:Saga("startAttendance", { on = "raidStart", run = snapshot })
  model:Saga("bossAttendance", { on = "boss", run = snapshot })
  model:Saga("endAttendance", { on = "raidEnd", run = snapshot })
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

-- Records a raid event; its attendance (`present` or the raid now) follows by the saga, at
-- once: catching up applies the event, and the saga acts. -> entry id and the number of
-- raiders present, or nil and why.
local function record_event(entry_type, data, present)
  local names = attendees(present)
  local id, reason = ns.ledger:Submit(entry_type, data)
  if not id then return nil, reason end
  LootHistoryDB.attendance[id] = names
  ns.CurrentState()
  return id, #names
end

-- options = { name, difficulty, present } -> raid id and the number of raiders present, or nil
-- and why.
function ns.StartRaid(instance, options)
  return record_event("raidStart", {
    instance = instance, name = options.name, difficulty = options.difficulty,
    size = options.present and #options.present or (IsInRaid() and GetNumGroupMembers() or 0), by = me(),
  }, options.present)
end

-- Records a boss kill in the open raid (or `raid_id`), attendance from `present` or the raid.
-- -> boss entry id and raiders present, or nil and why.
function ns.BossKill(state, boss, raid_id, present)
  local raid = raid_id and state.raids[raid_id] or ns.OpenRaid(state)
  if not raid then return nil, "no raid is running: /loot raid start <instance> first" end
  return record_event("boss", { raid = raid.id, boss = boss, instance = raid.instance, by = me() }, present)
end

-- Ends `raid`, attendance from `present` or the raid. -> end entry id and raiders present, or
-- nil and why.
function ns.EndRaid(raid, present)
  if raid.ended then return nil, "that raid has already ended" end
  return record_event("raidEnd", { raid = raid.id, by = me() }, present)
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
