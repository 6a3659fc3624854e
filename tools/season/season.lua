-- A seeded season for GuildDKP and LootHistory: a 40-member guild (classes, ranks, alts) raids
-- three times a week for 52 weeks; its officer's client records everything through the
-- addons' own slash commands, backdated to the raid's hour (GuildDKP.Backdate,
-- LootHistory.Backdate). Reports entries per type, ledger sizes and journal bytes.
-- Run: tally run addons --clients 1 --quiet --saved <fresh dir> --script tools/season/season.lua
-- Options (environment): SEASON_SEED (default 1), SEASON_WEEKS (default 52).
local SEED = tonumber(os.getenv("SEASON_SEED") or "") or 1
local WEEKS = tonumber(os.getenv("SEASON_WEEKS") or "") or 52

local officer = tally.clients()[1]
local started = os.clock()

------------------------------------------------------------------------------------------------
-- Randomness: Park-Miller, exact in doubles, the same under any Lua.

local state = (SEED % 2147483646) + 1
local function random() -- [0, 1)
  state = (state * 16807) % 2147483647
  return (state - 1) / 2147483646
end
local function chance(p) return random() < p end
local function between(low, high) return low + math.floor(random() * (high - low + 1)) end
local function pick(list) return list[between(1, #list)] end

------------------------------------------------------------------------------------------------
-- The guild: mains with class and rank (rank only sets how often they come), alts of some.

local CLASSES = { "WARRIOR", "PRIEST", "MAGE", "ROGUE", "DRUID", "HUNTER", "WARLOCK", "PALADIN", "SHAMAN" }
local MAINS = {
  "Thrandor", "Velessa", "Morgrim", "Isolde", "Kaelith", "Brunhild", "Corvane", "Elowen", "Grimbald", "Ysolde",
  "Torvald", "Miravel", "Halvard", "Seraphine", "Dunstan", "Liraen", "Ragnhild", "Osric", "Tamsin", "Wulfric",
  "Anwen", "Bertrand", "Cerys", "Dorian", "Edda", "Faelan", "Gwendis", "Hakon", "Idris", "Jessamy",
  "Kendrick", "Linnea", "Maelis", "Nerys", "Orla", "Percival", "Quenby", "Rowena", "Sigurd", "Talwyn",
}
-- Rank index per main: 0 guild master, 1 officer, 2 veteran, 3 member, 4 initiate.
local RANK_OF = { 0, 1, 1, 1 }
for i = 5, 16 do RANK_OF[i] = 2 end
for i = 17, 33 do RANK_OF[i] = 3 end
for i = 34, 40 do RANK_OF[i] = 4 end
local COMES = { [0] = 0.97, 0.95, 0.88, 0.7, 0.45 }
local ALTS = { Thrandor = "Thrandbank", Kaelith = "Kaelalt", Torvald = "Torvheals", Anwen = "Anwenmage",
  Hakon = "Hakonlock", Rowena = "Rowenadk" }
local RECRUITS = { { "Ulfberht", "WARRIOR", 3 }, { "Vivianne", "PRIEST", 3 } }
local LEAVERS = { "Quenby", "Jessamy" }  -- leave in week 20; the recruits join then

local members = {}  -- name -> { class, rank, alt }
local roster = {}   -- current mains, in order
for i, name in ipairs(MAINS) do
  members[name] = { class = CLASSES[(i - 1) % #CLASSES + 1], rank = RANK_OF[i], alt = ALTS[name] }
  roster[#roster + 1] = name
end

------------------------------------------------------------------------------------------------
-- Instances, bosses and their loot (item id, name, slot).

local INSTANCES = {
  { name = "Molten Core", bosses = { "Lucifron", "Magmadar", "Gehennas", "Garr", "Shazzrah", "Baron Geddon",
      "Golemagg the Incinerator", "Sulfuron Harbinger", "Majordomo Executus", "Ragnaros" },
    items = { { 16800, "Arcanist Boots", "feet" }, { 16801, "Arcanist Gloves", "hands" }, { 16802, "Arcanist Belt", "waist" },
      { 18203, "Eskhandar's Right Claw", "mainhand" }, { 18822, "Obsidian Edged Blade", "twohand" },
      { 17076, "Bonereaver's Edge", "twohand" }, { 18814, "Choker of the Fire Lord", "neck" },
      { 17063, "Band of Accuria", "finger" }, { 16866, "Helm of Might", "head" }, { 17103, "Azuresong Mageblade", "mainhand" },
      { 16922, "Leggings of Transcendence", "legs" }, { 18564, "Bindings of the Windseeker", "misc" } } },
  { name = "Blackwing Lair", bosses = { "Razorgore the Untamed", "Vaelastrasz the Corrupt", "Broodlord Lashlayer",
      "Firemaw", "Ebonroc", "Flamegor", "Chromaggus", "Nefarian" },
    items = { { 19364, "Ashkandi, Greatsword of the Brotherhood", "twohand" }, { 19137, "Onslaught Girdle", "waist" },
      { 16901, "Stormrage Legguards", "legs" }, { 19395, "Rejuvenating Gem", "trinket" }, { 19406, "Drake Fang Talisman", "trinket" },
      { 19347, "Claw of Chromaggus", "mainhand" }, { 19003, "Head of Nefarian", "token" },
      { 19356, "Staff of the Shadow Flame", "twohand" }, { 19398, "Cloak of Firemaw", "back" } } },
  { name = "Zul'Gurub", bosses = { "High Priestess Jeklik", "High Priest Venoxis", "High Priestess Mar'li",
      "High Priest Thekal", "High Priestess Arlokk", "Bloodlord Mandokir", "Jin'do the Hexxer", "Hakkar" },
    items = { { 19802, "Heart of Hakkar", "token" }, { 19862, "Aegis of the Blood God", "shield" },
      { 19865, "Warblade of the Hakkari", "onehand" }, { 19906, "Blooddrenched Footpads", "feet" },
      { 19896, "Thekal's Grasp", "onehand" }, { 19873, "Overlord's Crimson Band", "finger" },
      { 19897, "Betrayer's Boots", "feet" }, { 19925, "Band of Jin", "finger" } } },
}
local NIGHTS = { { day = 1, instance = 1 }, { day = 2, instance = 2 }, { day = 6, instance = 3 } }  -- Tue, Wed, Sun

------------------------------------------------------------------------------------------------
-- Driving the officer's client. Every command's new entries are counted by type: the first
-- type gets one entry, the second the rest (a raid start and its attendance parts).

local counts = { GuildDKP = {}, LootHistory = {} }
local size = { GuildDKP = 0, LootHistory = 0 }
local commands = 0

local function tally_types(ledger, types, delta)
  if delta <= 0 or not types then return end
  local c = counts[ledger]
  if #types == 1 or delta == 1 then
    c[types[1]] = (c[types[1]] or 0) + delta
  else
    c[types[1]] = (c[types[1]] or 0) + 1
    c[types[2]] = (c[types[2]] or 0) + delta - 1
  end
end

local function lastLines(n)
  local log = officer:log()
  local out = {}
  for i = math.max(1, #log - n + 1), #log do out[#out + 1] = log[i] end
  return table.concat(out, "\n  ")
end

-- Types `command`; dkp/loot: the entry types it writes in each ledger; `required`: fail when
-- it wrote nothing (a refusal means the generator is wrong).
local function run(command, dkp, loot, required)
  officer:slash(command)
  commands = commands + 1
  local d, l = officer:eval("return GuildDKP.Size(), LootHistory.Size()")
  local dd, dl = d - size.GuildDKP, l - size.LootHistory
  size.GuildDKP, size.LootHistory = d, l
  tally_types("GuildDKP", dkp, dd)
  tally_types("LootHistory", loot, dl)
  if required and dd + dl == 0 then error("season: '" .. command .. "' recorded nothing:\n  " .. lastLines(6)) end
  return dd, dl
end

local now
-- Both ledgers take time t for what follows.
local function at(t)
  if t == now then return end
  now = t
  officer:run(string.format("GuildDKP.Backdate(%d) LootHistory.Backdate(%d)", t, t))
end

------------------------------------------------------------------------------------------------
-- The season

local DAY, WEEK = 86400, 7 * 86400
local END = 1763942400  -- Monday 2025-11-24 00:00 UTC: the host's clock starts that afternoon
local START = END - (WEEKS + 1) * WEEK
local raids, auctions, lootUndo = 0, 0, 0

-- ledger:Ignore takes the host's clock, not the backdated time (an API gap): undo entries are
-- stamped with the day the season is generated. One host second apart, they stay well within
-- the 256 entries a creator may write in one second.
local function undoing() tally.advance(1) end

local function underscore(text) return (text:gsub(" ", "_")) end

-- Who comes tonight: mains by their rank's odds, some as their alt; at most 25, the rest (and
-- a few who could not come) are the bench.
local function lineup()
  local present, bench = {}, {}
  for _, name in ipairs(roster) do
    local m = members[name]
    if chance(COMES[m.rank]) then
      present[#present + 1] = (m.alt and chance(0.15)) and m.alt or name
    elseif chance(0.2) then
      bench[#bench + 1] = name
    end
  end
  while #present > 25 do
    local i = between(1, #present)
    bench[#bench + 1] = table.remove(present, i)
  end
  return present, bench
end

-- An auction for one dropped item: bids, close; a sale becomes loot through the addons'
-- GUILDDKP_AUCTION_WON; an item nobody bids on is rolled for or disenchanted.
local function auction(item, boss, present, t)
  local id, name, slot = item[1], item[2], item[3]
  at(t)
  run(string.format("/loot drop %d [%s] slot=%s", id, name, slot), nil, { "drop" }, true)
  local r = random()
  local mode = r < 0.6 and "sealed" or (r < 0.85 and "open" or "vickrey")
  run(string.format("/dkp auction open %d %s min=10 %s boss=%s", id, name, mode, underscore(boss)), { "auction" }, nil, true)
  auctions = auctions + 1
  local num = auctions
  local bidders = {}
  local wanted = chance(0.12) and 0 or between(1, 5)
  for _ = 1, wanted do
    local who = pick(present)
    if not bidders[who] then
      bidders[who] = true
      bidders[#bidders + 1] = who
    end
  end
  for i, who in ipairs(bidders) do
    at(t + 10 * i)
    local balance = officer:eval(string.format("return GuildDKP.Balance(%q)", who))
    local amount = math.max(10, math.floor(balance * (0.05 + 0.3 * random()) / 5) * 5)
    run(string.format("/dkp bidfor %s %d %d", who, amount, num), { "bid" }, nil, mode == "open")
    if mode == "open" and i > 1 and chance(0.3) then  -- the one outbid raises
      at(t + 10 * i + 5)
      run(string.format("/dkp bidfor %s %d %d", bidders[i - 1], amount + 5, num), { "bid" }, nil, true)
    end
  end
  at(t + 90)
  local dd = run("/dkp auction close " .. num, { "close", "bid" }, { "loot" }, true)
  if #bidders == 0 then
    if chance(0.5) then
      local rolls, best, winner = between(2, 3), -1, nil
      for _ = 1, rolls do
        local who, roll = pick(present), between(1, 100)
        run(string.format("/loot roll last %s greed roll=%d", who, roll), nil, { "roll" }, true)
        if roll > best then best, winner = roll, who end
      end
      run(string.format("/loot award %d %s greed", id, winner), nil, { "loot" }, true)
    else
      run(string.format("/loot award %d %s disenchant", id, pick(present)), nil, { "loot" }, true)
    end
  end
  return dd
end

local function raidNight(t, instance)
  raids = raids + 1
  local present, bench = lineup()
  local list = table.concat(present, ",")
  at(t)
  run(string.format("/loot raid start %s name=%s present=%s", instance.name, os.date("!%Y-%m-%d", t), list),
    nil, { "raidStart", "attendance" }, true)
  at(t + 60)
  run("/dkp award " .. list .. " 10 on_time", { "award" }, nil, true)
  for b, boss in ipairs(instance.bosses) do
    t = t + between(15, 35) * 60
    -- Someone leaves or joins between pulls.
    if chance(0.15) and #bench > 0 then present[#present + 1] = table.remove(bench, 1) end
    if chance(0.1) and #present > 10 then bench[#bench + 1] = table.remove(present, between(1, #present)) end
    list = table.concat(present, ",")
    at(t)
    run(string.format("/loot raid boss %s present=%s", boss, list), nil, { "boss", "attendance" }, true)
    at(t + 30)
    run(string.format("/dkp award %s 15 boss_kill %s", list, boss), { "award" }, nil, true)
    if chance(0.02) then  -- undone by mistake, then restored
      at(t + 40)
      undoing()
      run("/dkp undo last", { "__ignore" }, nil, true)
      run("/dkp redo", { "__ignore" }, nil, true)
    end
    local drops = b == #instance.bosses and 3 or (chance(0.2) and 2 or 1)
    for d = 1, drops do auction(pick(instance.items), boss, present, t + 60 + d * 120) end
  end
  t = t + 30 * 60
  at(t)
  if #bench > 0 then
    run("/dkp bench clear", nil, nil)
    run("/dkp bench add " .. table.concat(bench, ","), nil, nil)
    run("/dkp award standby 10 standby", { "award" }, nil, true)
  end
  if chance(0.2) then  -- a slip of the keyboard, undone
    at(t + 10)
    run(string.format("/dkp award %s 50 manual", pick(present)), { "award" }, nil, true)
    undoing()
    run("/dkp undo last", { "__ignore" }, nil, true)
  end
  if chance(0.1) then
    at(t + 20)
    run(string.format("/dkp adjust %s -20 penalty late for the pull", pick(present)), { "adjust" }, nil, true)
  end
  if chance(0.06) then
    at(t + 30)
    run(string.format("/loot reassign last %s traded in the raid", pick(present)), nil, { "reassign" })
  end
  if chance(0.04) then
    at(t + 40)
    run("/loot disenchant last", nil, { "disenchant" })
  end
  if chance(0.05) then  -- a loot record undone, then brought back
    at(t + 50)
    undoing()
    run("/loot undo last", nil, { "__ignore" }, true)
    local undoId = lastLines(1):match("/loot redo (%S+)")
    if undoId then
      run("/loot redo " .. undoId, nil, { "__ignore" }, true)
      lootUndo = lootUndo + 1
    end
  end
  at(t + 60)
  run("/loot raid end present=" .. table.concat(present, ","), nil, { "raidEnd", "attendance" }, true)
end

-- The roster at the start: every main, then the alts linked to them.
at(START)
for _, name in ipairs(MAINS) do run(string.format("/dkp roster add %s %s", name, members[name].class), { "member" }, nil, true) end
at(START + 60)
for _, main in ipairs(MAINS) do
  local alt = ALTS[main]
  if alt then
    run(string.format("/dkp roster add %s %s", alt, pick(CLASSES)), { "member" }, nil, true)
    run(string.format("/dkp alt %s %s", alt, main), { "alt" }, nil, true)
  end
end

for week = 0, WEEKS - 1 do
  local monday = START + (week + 1) * WEEK
  if week > 0 then
    at(monday + 4 * 3600)
    run("/dkp decay 10", { "decay" }, nil, true)
  end
  if week == 20 then
    at(monday + 5 * 3600)
    for _, name in ipairs(LEAVERS) do
      run("/dkp roster remove " .. name, { "member_remove" }, nil, true)
      for i, n in ipairs(roster) do
        if n == name then table.remove(roster, i) break end
      end
    end
    for _, r in ipairs(RECRUITS) do
      run(string.format("/dkp roster add %s %s", r[1], r[2]), { "member" }, nil, true)
      members[r[1]] = { class = r[2], rank = r[3] }
      roster[#roster + 1] = r[1]
    end
  end
  for _, night in ipairs(NIGHTS) do
    raidNight(monday + night.day * DAY + 19 * 3600, INSTANCES[night.instance])
  end
end
officer:run("GuildDKP.Backdate(nil) LootHistory.Backdate(nil)")
local generated = os.clock() - started

------------------------------------------------------------------------------------------------
-- Report: entries per type, ledger sizes, journal bytes, and a replay after logging in again.

local errors = officer:log(true)
if #errors > 0 then error("season: the client logged errors:\n" .. table.concat(errors, "\n")) end

local function savedDir()
  if os.getenv("SEASON_SAVED") then return os.getenv("SEASON_SAVED") end
  local f = io.open("/proc/self/cmdline", "rb")
  if not f then return nil end
  local args = {}
  for arg in f:read("*a"):gmatch("([^%z]*)%z") do args[#args + 1] = arg end
  f:close()
  for i, arg in ipairs(args) do
    if arg == "--saved" then return args[i + 1] end
    if arg:match("^%-%-saved=") then return arg:sub(9) end
  end
end

local function bytes(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local n = f:seek("end")
  f:close()
  return n
end

local function line(ledger)
  local names, total = {}, 0
  for entryType in pairs(counts[ledger]) do names[#names + 1] = entryType end
  table.sort(names, function(a, b) return counts[ledger][a] > counts[ledger][b] end)
  local parts = {}
  for _, entryType in ipairs(names) do
    parts[#parts + 1] = entryType .. " " .. counts[ledger][entryType]
    total = total + counts[ledger][entryType]
  end
  return total, table.concat(parts, ", ")
end

print(string.format("season: seed %d, %d weeks, %d raids, %d auctions, %d mains + %d alts; %d commands in %.1f s",
  SEED, WEEKS, raids, auctions, #MAINS + (WEEKS > 20 and #RECRUITS or 0), 6, commands, generated))
for _, ledger in ipairs({ "GuildDKP", "LootHistory" }) do
  local total, parts = line(ledger)
  print(string.format("%-12s %6d entries (%d in the ledger): %s", ledger, total, size[ledger], parts))
end

-- Logging out writes everything; logging in replays both journals.
officer:logout()
local dir = savedDir()
if dir then
  local total = 0
  for _, ledger in ipairs({ "GuildDKP", "LootHistory" }) do
    local path = string.format("%s/%s/Ledgers/%s.journal", dir, officer:name(), ledger)
    local n = bytes(path)
    if n then
      total = total + n
      print(string.format("journal %-40s %9d bytes (%.1f bytes/entry)", path, n, n / size[ledger]))
    end
  end
  print(string.format("journals: %d bytes for %d entries", total, size.GuildDKP + size.LootHistory))
end
local replayStart, frames = os.clock(), 0
officer:login()
local replayed
repeat
  tally.advance(1 / 60)
  frames = frames + 1
  local _, _, lag = officer:eval("return GuildDKP.StateHash()")
  replayed = lag == 0 and officer:eval("return LootHistory.State() ~= nil")
until replayed or frames > 60 * 600
print(string.format("replay after login: %d entries in %d frames (%.2f s of game time), %.2f s of CPU",
  size.GuildDKP + size.LootHistory, frames, frames / 60, os.clock() - replayStart))

local top = {}
for i, row in ipairs(officer:eval("return GuildDKP.Standings()")) do
  if i > 5 then break end
  top[i] = string.format("%s %d", row.name, row.points)
end
print("standings at the end: " .. table.concat(top, ", ") .. ", ...")
print(string.format("loot recorded: %d items; GuildDKP state hash %s", officer:eval("return #LootHistory.State().lootOrder"),
  table.concat({ officer:eval("return GuildDKP.StateHash()") }, " ")))
