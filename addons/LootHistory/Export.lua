-- LootHistory: exports as CSV (one row per item) and JSON (items with every roll and bid,
-- corrections, and raids with bosses and attendance), built over several frames when long.
local addonName, ns = ...

local function iso(t) return t and date("!%Y-%m-%dT%H:%M:%SZ", t) or nil end

-- The loot records an export covers: filter = { raid = raid id, since = time }.
function ns.ExportLoot(state, filter)
  local out = {}
  for i = 1, #state.lootOrder do
    local loot = state.loot[state.lootOrder[i]]
    if (not filter.raid or loot.raid == filter.raid) and (not filter.since or loot.time >= filter.since) then
      out[#out + 1] = loot
    end
  end
  return out
end

-- Everyone who rolled or bid on the item's drop, winners and others alike.
local function rolls_of(state, loot)
  local drop = loot.drop and state.drops[loot.drop]
  return drop and drop.rolls or {}
end

------------------------------------------------------------------------------------------------
-- CSV (RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled)

ns.CSV_COLUMNS = { "id", "time", "date", "raid", "raidName", "instance", "boss", "dropTime", "context", "itemId",
                   "itemName", "slot", "winner", "originalWinner", "response", "price", "awardedBy", "source",
                   "dkpEntry", "disenchanted", "reassignments", "rolls", "note" }

local function csv_field(value)
  if value == nil then return "" end
  local text = tostring(value)
  if string.find(text, '[,"\r\n]') then text = '"' .. string.gsub(text, '"', '""') .. '"' end
  return text
end

-- "Brannoc-Tally:need:87:" per roll (player:response:roll:bid), joined by ";".
local function csv_rolls(rolls)
  local parts = {}
  for i, r in ipairs(rolls) do
    parts[i] = table.concat({ r.player, r.response, r.roll and tostring(r.roll) or "", r.bid and tostring(r.bid) or "" }, ":")
  end
  return table.concat(parts, ";")
end

-- "Dagna-Tally>Eowald-Tally" per reassignment, joined by ";".
local function csv_moves(loot)
  local parts = {}
  for _, h in ipairs(loot.history) do
    if h.kind == "reassign" then parts[#parts + 1] = h.from .. ">" .. h.to end
  end
  return table.concat(parts, ";")
end

-- pause(i) is called after each row (see ns.Export); nil for none.
function ns.ToCSV(state, rows, pause)
  local lines = { table.concat(ns.CSV_COLUMNS, ",") }
  for n, loot in ipairs(rows) do
    local raid = loot.raid and state.raids[loot.raid]
    local values = {
      loot.id, loot.time, iso(loot.time), loot.raid, raid and raid.name, loot.instance, loot.boss, loot.dropTime,
      loot.context, loot.item, loot.name, loot.slot, loot.winner, loot.originalWinner, loot.response, loot.price,
      loot.by, loot.source, loot.dkp, loot.disenchanted and "yes" or "no", csv_moves(loot),
      csv_rolls(rolls_of(state, loot)), loot.note,
    }
    for i = 1, #ns.CSV_COLUMNS do values[i] = csv_field(values[i]) end
    lines[#lines + 1] = table.concat(values, ",")
    if pause then pause(n) end
  end
  return table.concat(lines, "\n")
end

------------------------------------------------------------------------------------------------
-- JSON. Objects are written as ordered key, value pairs, so every export of the same history
-- is byte-identical; nil values are left out.

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function json_string(text)
  return '"' .. string.gsub(text, '[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", string.byte(c))
  end) .. '"'
end

-- An object from key, value, key, value...; n counts the nils too.
local function object(...)
  return { object = { n = select("#", ...), ... } }
end

local encode
local function json_object(pairs_list, out)
  out[#out + 1] = "{"
  local first = true
  for i = 1, pairs_list.n, 2 do
    local value = pairs_list[i + 1]
    if value ~= nil then
      if not first then out[#out + 1] = "," end
      first = false
      out[#out + 1] = json_string(pairs_list[i])
      out[#out + 1] = ":"
      encode(value, out)
    end
  end
  out[#out + 1] = "}"
end

-- Values: strings, finite numbers, booleans, { array = {...} }, object(k, v, k, v...), and
-- { raw = text } for JSON encoded before.
encode = function(value, out)
  local kind = type(value)
  if kind == "string" then
    out[#out + 1] = json_string(value)
  elseif kind == "number" then
    assert(value == value and value ~= math.huge and value ~= -math.huge, "JSON export: a non-finite number")
    out[#out + 1] = value == math.floor(value) and string.format("%d", value) or string.format("%.17g", value)
  elseif kind == "boolean" then
    out[#out + 1] = tostring(value)
  elseif value.raw then
    out[#out + 1] = value.raw
  elseif value.object then
    json_object(value.object, out)
  else
    out[#out + 1] = "["
    for i, item in ipairs(value.array) do
      if i > 1 then out[#out + 1] = "," end
      encode(item, out)
    end
    out[#out + 1] = "]"
  end
end

local function array_of(list) return { array = list or {} } end

local function loot_object(state, loot)
  local rolls, history = {}, {}
  for i, r in ipairs(rolls_of(state, loot)) do
    rolls[i] = object("player", r.player, "response", r.response, "roll", r.roll, "bid", r.bid, "note", r.note,
                            "time", r.time, "recordedBy", r.by)
  end
  for i, h in ipairs(loot.history) do
    history[i] = object("kind", h.kind, "id", h.id, "time", h.time, "by", h.by, "from", h.from, "to", h.to,
                              "reason", h.reason, "note", h.note)
  end
  return object(
    "id", loot.id, "time", loot.time, "date", iso(loot.time), "raid", loot.raid, "instance", loot.instance,
    "boss", loot.boss, "dropTime", loot.dropTime, "context", loot.context, "itemId", loot.item,
    "itemName", loot.name, "slot", loot.slot, "winner", loot.winner, "originalWinner", loot.originalWinner,
    "response", loot.response, "price", loot.price, "awardedBy", loot.by, "source", loot.source,
    "dkpEntry", loot.dkp, "drop", loot.drop, "disenchanted", loot.disenchanted, "note", loot.note,
    "rolls", { array = rolls }, "history", { array = history })
end

local function raid_object(state, raid)
  local bosses = {}
  for i, b in ipairs(raid.bosses) do
    local names, complete = ns.SnapshotNames(state, b.id)
    bosses[i] = object("id", b.id, "boss", b.boss, "instance", b.instance, "time", b.time, "by", b.by,
                             "attendance", array_of(names), "attendanceComplete", names and complete)
  end
  local start_names, start_complete = ns.SnapshotNames(state, raid.id)
  local end_names, end_complete = ns.SnapshotNames(state, raid.endEvent)
  return object(
    "id", raid.id, "name", raid.name, "instance", raid.instance, "difficulty", raid.difficulty, "size", raid.size,
    "started", raid.started, "startedBy", raid.by, "ended", raid.ended, "endedBy", raid.endedBy,
    "startAttendance", array_of(start_names), "startAttendanceComplete", start_names and start_complete,
    "endAttendance", end_names and array_of(end_names), "endAttendanceComplete", end_names and end_complete,
    "bosses", { array = bosses }, "loot", array_of(raid.loot))
end

-- The export of `rows` with the raids they belong to (or filter.raid's).
function ns.ToJSON(state, rows, filter, pause)
  local loot, raids = {}, {}
  for i, l in ipairs(rows) do
    local out = {}
    encode(loot_object(state, l), out)
    loot[i] = { raw = table.concat(out) }
    if pause then pause(i) end
  end
  for i = 1, #state.raidOrder do
    local raid = state.raids[state.raidOrder[i]]
    local wanted = filter.raid and raid.id == filter.raid
      or not filter.raid and (not filter.since or raid.started >= filter.since)
    if wanted then raids[#raids + 1] = raid_object(state, raid) end
  end
  local out = {}
  encode(object("addon", "LootHistory", "version", 1, "exported", GetServerTime(),
                "loot", { array = loot }, "raids", { array = raids }), out)
  return table.concat(out)
end

------------------------------------------------------------------------------------------------
-- Building an export without freezing the game: up to EXPORT_ROWS_PER_FRAME items are encoded
-- per frame, in a coroutine resumed once per frame.

ns.EXPORT_ROWS_PER_FRAME = 250

-- Builds an export of the items `filter` selects, keeps it in LootHistoryDB.export and calls
-- done(text, items) -- at once for a short export, over the next frames for a long one.
-- -> the number of items, and whether the export finished already.
function ns.Export(state, format, filter, done)
  local rows = ns.ExportLoot(state, filter)
  local function pause(i)
    if i % ns.EXPORT_ROWS_PER_FRAME == 0 and i < #rows then coroutine.yield() end
  end
  local builder = coroutine.create(function()
    if format == "csv" then return ns.ToCSV(state, rows, pause) end
    return ns.ToJSON(state, rows, filter, pause)
  end)
  local function step()
    local ok, text = coroutine.resume(builder)
    if not ok then error("LootHistory export: " .. tostring(text), 0) end
    if coroutine.status(builder) ~= "dead" then
      C_Timer.After(0, step)
      return false
    end
    LootHistoryDB.export = { format = format, time = GetServerTime(), items = #rows, text = text }
    done(text, #rows)
    return true
  end
  return #rows, step()
end
