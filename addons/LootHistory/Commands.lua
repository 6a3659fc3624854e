-- LootHistory: the /loot slash command: recording, corrections, questions and exports.
local addonName, ns = ...

local help = {
  "/loot raid start <instance> [name=<label>] [difficulty=<d>] - start a raid; attendance snapshot",
  "/loot raid boss <boss>                - a boss kill in the running raid; attendance snapshot",
  "/loot raid end [raid]                 - end the running raid; attendance snapshot",
  "      (start, boss, end: present=<name,name,...> records those names instead of your raid)",
  "/loot raid list                       - every raid",
  "/loot raid show [raid]                - a raid's bosses, attendance and loot",
  "/loot drop <item> [slot=<slot>] [boss=<boss>] - an item dropped (keeps this boss and instance)",
  "/loot roll <drop> <player> <response> [roll=<n>] [bid=<n>] - someone rolled or bid on a drop",
  "/loot pending                         - drops not awarded yet, with their rolls",
  "/loot award <item> <player> <response> [price=<n>] [slot=<slot>] [boss=<boss>] [drop=<drop>] [note=<text>]",
  "/loot reassign <loot> <player> [reason] - give an item to someone else (a trade or a mistake)",
  "/loot disenchant <loot>               - mark an item as disenchanted",
  "/loot undo <id>                       - undo any entry; /loot redo <undo id> brings it back",
  "/loot player <player>                 - a player's loot",
  "/loot item <item>                     - everyone who got an item",
  "/loot counts [days=<n>] [since=<date>] [until=<date>] - items and raids per player, for fairness",
  "/loot last <player> <slot>            - when a player last got an item of a slot",
  "/loot export csv|json [raid=<raid>] [days=<n>] - print an export; also kept in LootHistoryDB.export",
  "/loot officerrank [n]                 - show or set the highest guild rank index that counts as officer",
  "/loot sync                            - whether this client holds what the guild's other clients hold",
  "Items: a link, or an id and [Name]. <loot>, <drop>, <raid>: an id, #n from a list, or last.",
  "Dates: YYYY-MM-DD or Unix seconds. Responses: " .. table.concat(ns.RESPONSES, " ") .. ".",
  "Slots: " .. table.concat(ns.SLOTS, " ") .. ".",
}

local function say(text) print("LootHistory: " .. text) end

local function report(what, id, reason)
  if id then say("recorded " .. what .. " (" .. id .. ")") else say("refused: " .. tostring(reason)) end
end

local function when(t) return t and date("!%Y-%m-%d %H:%M", t) or "?" end

local function one_of(list, word)
  word = word and string.lower(word)
  return tContains(list, word) and word or nil
end

-- A date option: Unix seconds or YYYY-MM-DD (the start of that day, or its end with end_of_day).
local function parse_time(text, end_of_day)
  if not text then return nil end
  if string.match(text, "^%d+$") then return tonumber(text) end
  local y, m, d = string.match(text, "^(%d%d%d%d)-(%d%d)-(%d%d)$")
  if not y then return nil end
  local t = time({ year = tonumber(y), month = tonumber(m), day = tonumber(d), hour = 0, min = 0, sec = 0 })
  return end_of_day and t + 86399 or t
end

-- id -> position ("#n") in an order list, built once per listing.
local function positions(order)
  local at = {}
  for i, id in ipairs(order) do at[id] = i end
  return at
end

local function loot_line(loot, number)
  local parts = { string.format("#%d %s %s (%d)", number, when(loot.time), loot.name, loot.item) }
  if loot.slot then parts[#parts + 1] = loot.slot end
  parts[#parts + 1] = "-> " .. ns.Display(loot.winner) .. " " .. loot.response
  if loot.price then parts[#parts + 1] = loot.price .. " DKP" end
  if loot.boss then parts[#parts + 1] = "from " .. loot.boss .. (loot.instance and (", " .. loot.instance) or "") end
  if loot.originalWinner ~= loot.winner then parts[#parts + 1] = "(won by " .. ns.Display(loot.originalWinner) .. ")" end
  if loot.disenchanted then parts[#parts + 1] = "[disenchanted]" end
  parts[#parts + 1] = loot.id
  return "  " .. table.concat(parts, " ")
end

local function print_loot(state, list)
  local at = positions(state.lootOrder)
  for _, loot in ipairs(list) do print(loot_line(loot, at[loot.id])) end
end

-- present=<name,name,...> -> array of names, or nil when the option is absent.
local function present_list(options)
  if not options.present then return nil end
  local names = {}
  for name in string.gmatch(options.present, "[^,%s]+") do names[#names + 1] = name end
  return names
end

local function names_line(names, complete)
  if not names then return "no snapshot" end
  local shown = {}
  for i, name in ipairs(names) do shown[i] = ns.Display(name) end
  return #names .. (complete and "" or " (incomplete: a part is missing)") .. ": " .. table.concat(shown, ", ")
end

------------------------------------------------------------------------------------------------
-- Sub-commands: handler(state, words, options), words after the sub-command

local raid_commands = {
  start = function(state, words, options)
    local instance = ns.RestOf(words, 1)
    if not instance then return say("usage: /loot raid start <instance> [name=<label>] [difficulty=<d>]") end
    local id, present = ns.StartRaid(instance, { name = options.name, difficulty = options.difficulty,
                                                  present = present_list(options) })
    if not id then return say("refused: " .. tostring(present)) end
    say(string.format("raid started: %s, %d present (%s)", instance, present, id))
  end,
  boss = function(state, words, options)
    local boss = ns.RestOf(words, 1)
    if not boss then return say("usage: /loot raid boss <boss>") end
    local raid
    if options.raid then
      local why
      raid, why = ns.ResolveRaid(state, options.raid)
      if not raid then return say(why) end
    end
    local id, present = ns.BossKill(state, boss, raid and raid.id, present_list(options))
    if not id then return say("refused: " .. tostring(present)) end
    say(string.format("boss kill: %s, %d present (%s)", boss, present, id))
  end,
  ["end"] = function(state, words, options)
    local raid, why = ns.ResolveRaid(state, words[1] and words[1].text)
    if not raid then return say(why) end
    local id, present = ns.EndRaid(raid, present_list(options))
    if not id then return say("refused: " .. tostring(present)) end
    say(string.format("raid ended: %s, %d present (%s)", raid.instance, present, id))
  end,
  list = function(state)
    say(#state.raidOrder .. " raid(s)")
    for i, id in ipairs(state.raidOrder) do
      local raid = state.raids[id]
      print(string.format("  #%d %s %s%s: %d boss(es), %d item(s), %s %s", i, when(raid.started), raid.instance,
        raid.name and (" (" .. raid.name .. ")") or "", #raid.bosses, #raid.loot,
        raid.ended and ("ended " .. when(raid.ended)) or "running", id))
    end
  end,
  show = function(state, words)
    local raid, why = ns.ResolveRaid(state, words[1] and words[1].text)
    if not raid then return say(why) end
    say(string.format("%s%s, started %s by %s%s", raid.instance, raid.name and (" (" .. raid.name .. ")") or "",
      when(raid.started), ns.Display(raid.by), raid.ended and (", ended " .. when(raid.ended)) or ", running"))
    print("  start: " .. names_line(ns.SnapshotNames(state, raid.id)))
    for _, b in ipairs(raid.bosses) do
      print("  " .. when(b.time) .. " " .. b.boss .. ": " .. names_line(ns.SnapshotNames(state, b.id)))
    end
    if raid.ended then print("  end: " .. names_line(ns.SnapshotNames(state, raid.endEvent))) end
    print("  loot: " .. #raid.loot .. " item(s)")
    print_loot(state, ns.model:Ask("raidLoot", raid))
  end,
}

local commands = {
  raid = function(state, words, options)
    local sub = words[1] and raid_commands[string.lower(words[1].text)]
    if not sub then return say("usage: /loot raid start|boss|end|list|show ...") end
    table.remove(words, 1)
    sub(state, words, options)
  end,

  drop = function(state, words, options)
    local item, name = ns.TakeItem(words, 1)
    if not item then return say(name) end
    local slot = options.slot and one_of(ns.SLOTS, options.slot)
    if options.slot and not slot then return say("unknown slot " .. options.slot) end
    local id, reason = ns.RecordDrop(state, item, name, { slot = slot, boss = options.boss })
    report("drop of " .. (name or ns.ItemName(state, item)), id, reason)
  end,

  roll = function(state, words, options)
    local drop, why = ns.ResolveDrop(state, words[1] and words[1].text)
    if not drop then return say(why) end
    local player, response = words[2] and words[2].text, one_of(ns.ROLL_RESPONSES, words[3] and words[3].text)
    if not player or not response then
      return say("usage: /loot roll <drop> <player> <" .. table.concat(ns.ROLL_RESPONSES, "|") .. "> [roll=<n>] [bid=<n>]")
    end
    local roll, bid = tonumber(options.roll), tonumber(options.bid)
    if options.roll and not roll or options.bid and not bid then return say("roll= and bid= take numbers") end
    local id, reason = ns.RecordRoll(drop, player, response, roll, bid, options.note)
    report(ns.Display(ns.FullName(player)) .. "'s " .. response .. " on " .. drop.name, id, reason)
  end,

  pending = function(state)
    local count = 0
    for n, id in ipairs(state.dropOrder) do
      local drop = state.drops[id]
      if not drop.awarded then
        count = count + 1
        print(string.format("  drop #%d %s %s (%d) from %s %s", n, when(drop.time), drop.name, drop.item,
          drop.boss or "?", id))
        for _, r in ipairs(drop.rolls) do
          print(string.format("    %s %s%s%s", ns.Display(r.player), r.response, r.roll and (" " .. r.roll) or "",
            r.bid and (" bid " .. r.bid) or ""))
        end
      end
    end
    say(count .. " drop(s) waiting")
  end,

  award = function(state, words, options)
    local item, name, i = ns.TakeItem(words, 1)
    if not item then return say(name) end
    local winner, response = words[i] and words[i].text, one_of(ns.RESPONSES, words[i + 1] and words[i + 1].text)
    if not winner or not response then
      return say("usage: /loot award <item> <player> <" .. table.concat(ns.RESPONSES, "|") .. "> [price=<n>] [slot=<slot>] [boss=<boss>] [drop=<drop>] [note=<text>]")
    end
    local price = options.price and tonumber(options.price)
    if options.price and not (price and price >= 0) then return say("price must be a number >= 0") end
    local slot = options.slot and one_of(ns.SLOTS, options.slot)
    if options.slot and not slot then return say("unknown slot " .. options.slot .. "; slots: " .. table.concat(ns.SLOTS, " ")) end
    local drop
    if options.drop then
      local why
      drop, why = ns.ResolveDrop(state, options.drop)
      if not drop then return say(why) end
    end
    local id, reason = ns.RecordLoot(state, { item = item, name = name, winner = winner, response = response, price = price,
                                              slot = slot, boss = options.boss, drop = drop, note = options.note })
    report((name or ns.ItemName(state, item)) .. " for " .. ns.Display(ns.FullName(winner)), id, reason)
  end,

  reassign = function(state, words)
    local loot, why = ns.ResolveLoot(state, words[1] and words[1].text)
    if not loot then return say(why) end
    local to = words[2] and words[2].text
    if not to then return say("usage: /loot reassign <loot> <player> [reason]") end
    local id, reason = ns.Reassign(loot, to, ns.RestOf(words, 3))
    report(loot.name .. " now with " .. ns.Display(ns.FullName(to)), id, reason)
  end,

  disenchant = function(state, words, options)
    local loot, why = ns.ResolveLoot(state, words[1] and words[1].text)
    if not loot then return say(why) end
    local id, reason = ns.Disenchant(loot, options.note or ns.RestOf(words, 2))
    report(loot.name .. " disenchanted", id, reason)
  end,

  undo = function(state, words)
    local ref = words[1] and words[1].text
    if not ref then return say("usage: /loot undo <id>") end
    if not ns.ledger:Entry(ref) then
      local loot = ns.ResolveLoot(state, ref)
      if loot then ref = loot.id end
    end
    local id, reason = ns.Undo(ref)
    if id then say("undone " .. ref .. " (" .. id .. "); /loot redo " .. id .. " brings it back") else say("refused: " .. tostring(reason)) end
  end,

  redo = function(state, words)
    local ref = words[1] and words[1].text
    local entry_type, data = ns.ledger:Entry(ref or "")
    if entry_type ~= "__ignore" then return say("usage: /loot redo <id printed by /loot undo>") end
    local id, reason = ns.Undo(ref)
    if id then say("redone " .. data.target .. " (" .. id .. ")") else say("refused: " .. tostring(reason)) end
  end,

  player = function(state, words)
    local player = words[1] and words[1].text
    if not player then return say("usage: /loot player <player>") end
    local held, lost = ns.model:Ask("playerLoot", player)
    say(ns.Display(ns.FullName(player)) .. " has " .. #held .. " item(s)")
    print_loot(state, held)
    if #lost > 0 then
      print("  passed on to others: " .. #lost)
      print_loot(state, lost)
    end
  end,

  item = function(state, words)
    local w = words[1]
    if not w then return say("usage: /loot item <item>") end
    local query
    if w.kind == "bracket" or w.kind == "quoted" then
      query = w.text
    else
      local item, why = ns.TakeItem(words, 1)
      if not item then return say(why) end
      query = item
    end
    local owners = ns.model:Ask("itemOwners", query)
    say(tostring(query) .. ": " .. #owners .. " recorded")
    print_loot(state, owners)
  end,

  counts = function(state, words, options)
    local since, upto = parse_time(options.since), parse_time(options["until"], true)
    if options.since and not since or options["until"] and not upto then return say("dates are YYYY-MM-DD or Unix seconds") end
    local days = tonumber(options.days)
    if days then since = GetServerTime() - days * 86400 end
    local rows = ns.model:Ask("lootCounts", since, upto)
    say(string.format("items kept and raids attended, %s to %s", since and when(since) or "the start",
      upto and when(upto) or "now"))
    for _, r in ipairs(rows) do print(string.format("  %-16s %3d item(s) %3d raid(s)", ns.Display(r.name), r.items, r.raids)) end
  end,

  last = function(state, words)
    local player, slot = words[1] and words[1].text, one_of(ns.SLOTS, words[2] and words[2].text)
    if not player or not slot then return say("usage: /loot last <player> <slot>; slots: " .. table.concat(ns.SLOTS, " ")) end
    local loot = ns.LastOfSlot(state, player, slot)
    if not loot then return say(ns.Display(ns.FullName(player)) .. " has no " .. slot .. " item recorded") end
    say(string.format("%s last got a %s item on %s", ns.Display(loot.winner), slot, when(loot.time)))
    print_loot(state, { loot })
  end,

  export = function(state, words, options)
    local format = words[1] and string.lower(words[1].text)
    if format ~= "csv" and format ~= "json" then return say("usage: /loot export csv|json [raid=<raid>] [days=<n>]") end
    local filter = {}
    if options.raid then
      local raid, why = ns.ResolveRaid(state, options.raid)
      if not raid then return say(why) end
      filter.raid = raid.id
    end
    if tonumber(options.days) then filter.since = GetServerTime() - tonumber(options.days) * 86400 end
    local count, finished = ns.Export(state, format, filter, function(text, items)
      say(string.format("%s export of %d item(s), also in LootHistoryDB.export:", format, items))
      for line in string.gmatch(text, "[^\n]+") do print(line) end
    end)
    if not finished then say(string.format("building a %s export of %d item(s) over the next frames", format, count)) end
  end,

  officerrank = function(state, words)
    local rank = words[1] and tonumber(words[1].text)
    if rank then
      if rank < 0 or rank ~= math.floor(rank) or rank >= GuildControlGetNumRanks() then
        return say("rank index must be 0.." .. (GuildControlGetNumRanks() - 1))
      end
      LootHistoryDB.officerRank = rank
    end
    local r = ns.OfficerRank()
    say(string.format("officers are guild ranks 0-%d (%s); only they may record", r, GuildControlGetRankName(r + 1) or "?"))
  end,

  sync = function()
    local status = ns.ledger:SyncStatus()
    if not status then return say("this ledger does not sync") end
    local names = {}
    for name in pairs(status.peers) do names[#names + 1] = name end
    table.sort(names)
    say(string.format("sync %s: %d entries here, %d peer(s)", tostring(status.state), ns.ledger:Size(), #names))
    for _, name in ipairs(names) do
      local peer = status.peers[name]
      local lag = peer.lag == 0 and "same count" or (peer.lag > 0 and (peer.lag .. " more") or (-peer.lag .. " fewer"))
      print(string.format("  %-24s %6d entries (%s)", name, peer.count, lag))
    end
  end,
}

SLASH_LOOTHISTORY1 = "/loot"
SLASH_LOOTHISTORY2 = "/loothistory"
SlashCmdList.LOOTHISTORY = function(message)
  local words, options = ns.ParseArguments(message or "")
  local name = words[1] and string.lower(words[1].text)
  local handler = name and commands[name]
  if not handler then
    for _, line in ipairs(help) do print(line) end
    return
  end
  local state, why = ns.CurrentState()
  if not state then return say(why) end
  table.remove(words, 1)
  handler(state, words, options)
end
