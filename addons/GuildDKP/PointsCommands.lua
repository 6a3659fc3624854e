-- GuildDKP: /dkp commands for points: standings, history, entries, awards, adjustments,
-- decay, undo/redo, and the officer threshold.
local _, ns = ...

------------------------------------------------------------------------------------------------
-- Queries

local function standings(classFilter)
  local _, lag = ns.state()
  ns.replayNote(lag)
  local rows = ns.currentStandings(classFilter and strupper(classFilter))
  if #rows == 0 then ns.say("no one has points yet") end
  for rank, row in ipairs(rows) do
    print(string.format("%2d. %-12s %-8s %6d%s", rank, row.name, row.class, row.points,
      row.alts ~= "" and ("  alts: " .. gsub(row.alts, ";", ", ")) or ""))
  end
end

local function history(who)
  local name = ns.normalizeName(who)
  if not name then return ns.say("/dkp history <player>") end
  local state, lag = ns.state()
  ns.replayNote(lag)
  local main, rows = ns.historyOf(state, name)
  local alts = ns.altsOf(state, main)
  ns.say(string.format("history of %s%s%s: %d entries", main, main ~= name and (" (main of " .. name .. ")") or "",
    #alts > 0 and (", alts " .. table.concat(alts, ", ")) or "", #rows))
  for _, h in ipairs(rows) do
    print(string.format("%s %+6d %6d  %-11s %s  [%s]", date("!%Y-%m-%d %H:%M", h.t), h.d, h.b, h.r, h.n or "", h.id))
  end
end

local function entry(id)
  local lines, reason = ns.describeEntry(id)
  if not lines then return ns.say(reason) end
  for _, line in ipairs(lines) do print(line) end
end

------------------------------------------------------------------------------------------------
-- Points

-- The first award entry among a command's ids (the id undo and the messages name).
local function firstAward(ids)
  for _, id in ipairs(ids) do
    if ns.ledger:Entry(id) == "award" then return id end
  end
end

-- One "award" command: for the raid, the raid members the DKP roster does not know yet are
-- added in the same command (with the class the raid shows).
local function award(target, amount, reasonText, note)
  amount = tonumber(amount)
  if not target or not amount or not reasonText then
    return ns.say("/dkp award <player[,player..]|raid|standby> <amount> <reason> [note]")
  end
  local args = { kind = "player", names = ns.nameList(target), amount = amount, reason = reasonText, note = note }
  local lower = strlower(target)
  if lower == "raid" then
    local raid = ns.raidMembers()
    if #raid == 0 then return ns.say("refused: you are not in a raid") end
    args.kind, args.names, args.classes = "raid", {}, {}
    for i, m in ipairs(raid) do
      args.names[i], args.classes[m.name] = m.name, m.class
    end
  elseif lower == "standby" then
    local inRaid = {}
    for _, m in ipairs(ns.raidMembers()) do inRaid[m.name] = true end
    args.kind, args.names = "standby", {}
    for _, name in ipairs(GuildDKP_Local.bench) do
      if not inRaid[name] then args.names[#args.names + 1] = name end
    end
    if #args.names == 0 then return ns.say("refused: the bench is empty (/dkp bench add <names>)") end
  end
  local added = args.kind == "raid" and #ns.unknownMembers(ns.state(), args.names) or 0
  local ids = ns.execute("award", args)
  if not ids then return end
  if added > 0 then ns.say("added " .. added .. " raid member(s) to the DKP roster") end
  local first = firstAward(ids)
  ns.say(string.format("awarded %d (%s) to %d %s   [%s]", amount, ns.reasonCode(reasonText), #args.names,
    args.kind == "player" and "player(s)" or args.kind, first))
  return first
end

local function adjust(player, amount, reasonText, note)
  if not player or not tonumber(amount) or not reasonText then
    return ns.say("/dkp adjust <player> <+/-amount> <reason> <note>")
  end
  local ids = ns.execute("adjust", { player = player, amount = tonumber(amount), reason = reasonText, note = note })
  if ids then ns.say(string.format("adjusted %s by %+d   [%s]", ns.normalizeName(player), tonumber(amount), ids[1])) end
end

local function decay(percent, flag)
  if not tonumber(percent) then return ns.say("/dkp decay <percent> [skipneg]") end
  local ids = ns.execute("decay", { percent = tonumber(percent), skipNegative = flag == "skipneg" })
  if ids then ns.say(string.format("decayed every balance by %d%%   [%s]", tonumber(percent), ids[1])) end
end

------------------------------------------------------------------------------------------------
-- Corrections

-- The ids an undo covers: the entry, or every part of a split award (the later parts'
-- summaries end "(part i/n of <first part's id>)").
local function batchOf(state, id)
  local record = ns.findRecord(state, id)
  local root = record and strmatch(ns.parseRecord(record).summary, "%(part %d+/%d+ of (%S+)%)$") or id
  local ids, tail = { root }, " of " .. root .. ")"
  for _, other in ipairs(state.log) do
    if strfind(other, tail, 1, true) then
      local r = ns.parseRecord(other)
      if strsub(r.summary, -#tail) == tail then ids[#ids + 1] = r.id end
    end
  end
  return ids
end

local function undo(id)
  if id == "last" then id = GuildDKP_Local.last end
  if not id then return ns.say("/dkp undo <id|last>") end
  local state = ns.state()
  for _, target in ipairs(batchOf(state, id)) do
    local ok, ignoreId, reason = pcall(ns.ledger.Ignore, ns.ledger, target)
    if not ok or not ignoreId then return ns.say("refused: " .. tostring(ok and reason or ignoreId)) end
    GuildDKP_Local.undos[target] = ignoreId
    GuildDKP_Local.lastUndo = target
    ns.say(string.format("undid %s with %s (/dkp redo %s restores it)", target, ignoreId, target))
  end
end

-- Redo: ignore the undo. `id` is the undo entry, or an entry this client undid.
local function redo(id)
  id = id or GuildDKP_Local.lastUndo
  if not id then return ns.say("/dkp redo <id>") end
  local entryType = ns.ledger:Entry(id)
  local ignoreId = entryType == "__ignore" and id or GuildDKP_Local.undos[id]
  if not ignoreId then return ns.say("refused: no undo of " .. id .. " known here; give the undo entry's id") end
  local ok, redoId, reason = pcall(ns.ledger.Ignore, ns.ledger, ignoreId)
  if not ok or not redoId then return ns.say("refused: " .. tostring(ok and reason or redoId)) end
  for target, undoId in pairs(GuildDKP_Local.undos) do
    if undoId == ignoreId then GuildDKP_Local.undos[target] = nil end
  end
  ns.say(string.format("redid: %s no longer counts (%s)", ignoreId, redoId))
end

------------------------------------------------------------------------------------------------
-- Settings

local function config(key, value)
  local state = ns.state()
  if key == nil then
    return ns.say(string.format("officers are guild ranks 0..%d", state.config.officerRank))
  end
  if strlower(key) ~= "officerrank" or not tonumber(value) then return ns.say("/dkp config officerrank <n>") end
  local id = ns.submit("config", { officerRank = tonumber(value) }, true)
  if id then ns.say("officers are now guild ranks 0.." .. value .. "   [" .. id .. "]") end
end

------------------------------------------------------------------------------------------------
-- Registration

local c = ns.commands
c.standings = function(w) standings(w[1]) end
c.history = function(w) history(w[1]) end
c.entry = function(w) entry(w[1]) end
c.award = function(w, line) award(w[1], w[2], w[3], strmatch(line, "^%S+%s+%S+%s+%S+%s+(.+)$")) end
c.adjust = function(w, line) adjust(w[1], w[2], w[3], strmatch(line, "^%S+%s+%S+%s+%S+%s+(.+)$")) end
c.decay = function(w) decay(w[1], w[2] and strlower(w[2])) end
c.undo = function(w) undo(w[1]) end
c.redo = function(w) redo(w[1]) end
c.config = function(w) config(w[1], w[2]) end
