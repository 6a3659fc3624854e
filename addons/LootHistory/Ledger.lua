-- LootHistory: the ledger, its entry types (schema) and the state their mutators derive.
local addonName, ns = ...

------------------------------------------------------------------------------------------------
-- Entry types: required and optional fields with their Lua types. authorize() refuses anything
-- else, before it reaches a mutator (unknown types, unknown fields, wrong types).

local S, N = "string", "number"
ns.SCHEMA = {
  raidStart = { required = { instance = S, by = S }, optional = { name = S, difficulty = S, size = N } },
  boss = { required = { raid = S, boss = S, by = S }, optional = { instance = S } },
  raidEnd = { required = { raid = S, by = S } },
  attendance = { required = { raid = S, event = S, part = N, parts = N }, optional = { n1 = S, n2 = S, n3 = S } },
  drop = { required = { item = N, name = S, by = S },
           optional = { raid = S, slot = S, boss = S, instance = S } },
  roll = { required = { drop = S, player = S, response = S, by = S }, optional = { roll = N, bid = N, note = S } },
  loot = { required = { item = N, name = S, winner = S, response = S, source = S, context = S, by = S },
           optional = { price = N, slot = S, raid = S, boss = S, instance = S, dropTime = N, drop = S,
                        dkp = S, note = S } },
  reassign = { required = { loot = S, to = S, by = S }, optional = { reason = S } },
  disenchant = { required = { loot = S, by = S }, optional = { note = S } },
  __ignore = { required = { target = S } },
  __saga = { required = { cause = S, saga = S } },  -- Tally.Model: a saga acted (Raids.lua)
}

local function is_count(value) return type(value) == "number" and value >= 1 and value == math.floor(value) end

-- -> true, or false and why. The verdict does not depend on the order pairs() visits fields in.
function ns.Validate(entry_type, data)
  local schema = ns.SCHEMA[entry_type]
  if not schema then return false, "unknown entry type " .. tostring(entry_type) end
  for field, kind in pairs(schema.required) do
    if type(data[field]) ~= kind then return false, entry_type .. ": " .. field .. " must be a " .. kind end
    if kind == S and data[field] == "" then return false, entry_type .. ": " .. field .. " is empty" end
  end
  for field, value in pairs(data) do
    local kind = schema.required[field] or (schema.optional and schema.optional[field])
    if not kind then return false, entry_type .. ": unknown field " .. tostring(field) end
    if type(value) ~= kind then return false, entry_type .. ": " .. field .. " must be a " .. kind end
  end
  if data.item ~= nil and not is_count(data.item) then return false, entry_type .. ": item id must be a positive whole number" end
  if data.price ~= nil and not (data.price >= 0) then return false, entry_type .. ": price must not be negative" end
  if entry_type == "attendance" and not (is_count(data.part) and is_count(data.parts) and data.part <= data.parts and data.parts <= 20) then
    return false, "attendance: part must be in 1..parts (at most 20)"
  end
  return true
end

-- The addon-message prefix the ledger's sync uses (reserved for it by the host).
ns.SYNC_PREFIX = "LootHistLedger"

-- Received entries refused this session: each is reported once, however often sync offers it.
local reported = {}

-- The ledger's authorize(entry, sender, stage):
--   "submit":  this client records; the entry's shape, then the creator's right to record.
--   "send":    sync is about to send an entry this ledger holds: it was allowed when it came
--              in, so it goes (withholding it would keep the peers different for good).
--   "receive": the entry came from `sender` ("Name-Realm"), who may be relaying what someone
--              else recorded. The creator's guild rank decides (ns.MayRecord); the sender must
--              be in the guild, which keeps characters outside it from feeding the ledger but
--              vouches for nothing.
-- Refusals of received entries are printed; refused submits are printed by the caller.
local function authorize(entry, sender, stage)
  if stage == "send" then return true end
  local ok, reason = ns.Validate(entry.type, entry.data)
  if ok then ok, reason = ns.MayRecord(entry.creator, entry.data.by) end
  if ok and stage == "receive" and not ns.InGuild(sender) then
    ok, reason = false, "the sender " .. tostring(sender) .. " is not in the guild"
  end
  if not ok and stage ~= "submit" and not reported[entry.id or ""] then
    if entry.id then reported[entry.id] = true end
    print(string.format("LootHistory: refused an entry from %s: %s", tostring(sender), tostring(reason)))
  end
  return ok, reason
end

------------------------------------------------------------------------------------------------
-- State. Plain tables; arrays grow in ledger order, so every client derives the same state.

local function new_state()
  return {
    raids = {}, raidOrder = {},  -- raid id (its raidStart entry id) -> raid; ids in ledger order
    snapshots = {},              -- event id (raidStart, boss or raidEnd entry) -> attendance parts
    drops = {}, dropOrder = {},
    loot = {}, lootOrder = {},
    byDkp = {},                  -- GuildDKP entry id -> loot id (the first one recorded)
    waiting = {},                -- target id -> links that arrived before their target
  }
end

-- What a reference does to its target. A reference can land before its target (two officers
-- in the same second, or the target was ignored and comes back): it then waits in
-- state.waiting and is applied, in ledger order, when the target arrives.
local link = {
  boss = function(raid, rec) raid.bosses[#raid.bosses + 1] = rec end,
  raidEnd = function(raid, rec)
    if raid.ended then return end  -- the first end counts
    raid.ended, raid.endedBy, raid.endEvent = rec.time, rec.by, rec.id
  end,
  raidDrop = function(raid, rec) raid.drops[#raid.drops + 1] = rec.id end,
  raidLoot = function(raid, rec) raid.loot[#raid.loot + 1] = rec.id end,
  roll = function(drop, rec) drop.rolls[#drop.rolls + 1] = rec end,
  award = function(drop, rec) if not drop.awarded then drop.awarded = rec.id end end,
  reassign = function(loot, rec)
    loot.history[#loot.history + 1] = { kind = "reassign", id = rec.id, time = rec.time, by = rec.by,
                                         from = loot.winner, to = rec.to, reason = rec.reason }
    loot.winner = rec.to
  end,
  disenchant = function(loot, rec)
    loot.history[#loot.history + 1] = { kind = "disenchant", id = rec.id, time = rec.time, by = rec.by, note = rec.note }
    loot.disenchanted = true
  end,
}

local function attach(state, targets, target_id, kind, rec)
  if target_id == nil then return end
  local target = targets[target_id]
  if target then
    link[kind](target, rec)
  else
    local list = state.waiting[target_id] or {}
    list[#list + 1] = { kind = kind, rec = rec }
    state.waiting[target_id] = list
  end
end

local function arrived(state, id, target)
  local list = state.waiting[id]
  if not list then return end
  state.waiting[id] = nil
  for i = 1, #list do link[list[i].kind](target, list[i].rec) end
end

-- A copy of the entry's fields (the mutator's data table is reused) plus id, time, creator.
local function record(data, meta, fields)
  local rec = { id = meta.id, time = meta.time, creator = meta.creator }
  for i = 1, #fields do rec[fields[i]] = data[fields[i]] end
  return rec
end

local mutators = {
  raidStart = function(state, data, meta)
    local raid = record(data, meta, { "instance", "name", "difficulty", "size", "by" })
    raid.started, raid.bosses, raid.drops, raid.loot = meta.time, {}, {}, {}
    state.raids[raid.id] = raid
    state.raidOrder[#state.raidOrder + 1] = raid.id
    arrived(state, raid.id, raid)
  end,
  boss = function(state, data, meta)
    attach(state, state.raids, data.raid, "boss", record(data, meta, { "raid", "boss", "instance", "by" }))
  end,
  raidEnd = function(state, data, meta)
    attach(state, state.raids, data.raid, "raidEnd", record(data, meta, { "by" }))
  end,
  -- Parts of one snapshot are kept by part number; a repeated part keeps the first.
  attendance = function(state, data, meta)
    local snap = state.snapshots[data.event]
    if not snap then
      snap = { raid = data.raid, parts = data.parts, have = 0, names = {} }
      state.snapshots[data.event] = snap
    end
    if data.part > snap.parts or snap.names[data.part] then return end
    snap.names[data.part] = ns.UnpackNames(data, {})
    snap.have = snap.have + 1
  end,
  drop = function(state, data, meta)
    local drop = record(data, meta, { "raid", "item", "name", "slot", "boss", "instance", "by" })
    drop.rolls = {}
    state.drops[drop.id] = drop
    state.dropOrder[#state.dropOrder + 1] = drop.id
    attach(state, state.raids, drop.raid, "raidDrop", drop)
    arrived(state, drop.id, drop)
  end,
  roll = function(state, data, meta)
    attach(state, state.drops, data.drop, "roll", record(data, meta, { "player", "response", "roll", "bid", "note", "by" }))
  end,
  loot = function(state, data, meta)
    local loot = record(data, meta, { "item", "name", "winner", "response", "price", "slot", "raid", "boss",
                                      "instance", "dropTime", "drop", "dkp", "source", "context", "note", "by" })
    loot.originalWinner = loot.winner
    loot.disenchanted = loot.response == "disenchant"
    loot.history = {}
    state.loot[loot.id] = loot
    state.lootOrder[#state.lootOrder + 1] = loot.id
    if loot.dkp and not state.byDkp[loot.dkp] then state.byDkp[loot.dkp] = loot.id end
    attach(state, state.raids, loot.raid, "raidLoot", loot)
    attach(state, state.drops, loot.drop, "award", loot)
    arrived(state, loot.id, loot)
  end,
  reassign = function(state, data, meta)
    attach(state, state.loot, data.loot, "reassign", record(data, meta, { "to", "reason", "by" }))
  end,
  disenchant = function(state, data, meta)
    attach(state, state.loot, data.loot, "disenchant", record(data, meta, { "note", "by" }))
  end,
}

------------------------------------------------------------------------------------------------
-- Setup, after the SavedVariables are in place

-- Functions to run once the ledger exists (a message that arrives before ADDON_LOADED).
ns.whenReady = {}

local frame = CreateFrame("Frame")
frame:RegisterEvent("ADDON_LOADED")
frame:SetScript("OnEvent", function(self, event, name)
  if name ~= addonName then return end
  self:UnregisterEvent("ADDON_LOADED")
  LootHistoryDB = type(LootHistoryDB) == "table" and LootHistoryDB or {}
  if LootHistoryDB.officerRank == nil then LootHistoryDB.officerRank = ns.DEFAULT_OFFICER_RANK end
  LootHistoryDB.attendance = LootHistoryDB.attendance or {}
  -- Synced with the guild's other clients: new entries are pushed within seconds, a client
  -- that was offline catches up; received entries go through authorize(..., "receive").
  local ledger = Tally.NewLedger{ name = "LootHistory", persist = true, initialState = new_state, authorize = authorize,
                                  sync = { prefix = ns.SYNC_PREFIX, protocol = "tally" } }
  -- Registered through a Tally.Model (its sagas observe them) in a fixed order, not by pairs():
  -- each registration restarts replay.
  local model = Tally.Model(ledger)
  for _, entry_type in ipairs({ "raidStart", "boss", "raidEnd", "attendance", "drop", "roll", "loot", "reassign", "disenchant" }) do
    model:Mutator(entry_type, mutators[entry_type])
  end
  ns.DefineAttendance(model)
  for _, query in ipairs(ns.QUERIES) do model:Query(query[1], query[2]) end
  ledger:On("mutatorFailed", function(_, err) print("LootHistory: replay stopped: " .. tostring(err)) end)
  ns.ledger, ns.model = ledger, model
  for i = 1, #ns.whenReady do ns.whenReady[i]() end
  ns.whenReady = {}
end)

-- Entries still replaying above which commands refuse rather than stall the frame catching up.
ns.CATCH_UP_LIMIT = 200

-- The state, applied up to the newest entry -> state, or nil and why. A short lag (this
-- client's own last entries) is applied now so commands see what was just recorded.
function ns.CurrentState()
  if not ns.ledger then return nil, "not loaded yet" end
  local lag = ns.ledger:Lag()
  if lag > ns.CATCH_UP_LIMIT then
    return nil, string.format("still replaying %d entries; try again in a moment", lag)
  end
  if lag > 0 then ns.ledger:CatchUp() end
  return ns.ledger:State()
end
