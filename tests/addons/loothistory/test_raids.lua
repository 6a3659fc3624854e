-- LootHistory: raids: start, boss kills and end, each with an attendance snapshot taken from
-- GetRaidRosterInfo at that moment, packed over several fields (and entries when needed).
-- Run: tally run <dir with LootHistory> --clients 25 --script test_raids.lua
local h = dofile(debug.getinfo(1, "S").source:match("^@(.*[/\\])") .. "helpers.lua")
local expect, expect_find, slash = h.expect, h.expect_find, h.slash

local clients = tally.clients()
expect(#clients, 25, "clients")
local gm = clients[1]

expect_find(slash(gm, "/loot raid boss Lucifron"), "no raid is running", "a boss kill needs a raid")

local raid = h.id(slash(gm, "/loot raid start Molten Core name=Thursday difficulty=normal"))
h.settle()
local function eval(code) return gm:eval(code) end
expect(eval("return LootHistory.State().raids['" .. raid .. "'].instance"), "Molten Core", "instance")
expect(eval("return LootHistory.State().raids['" .. raid .. "'].name"), "Thursday", "label")
expect(eval("return LootHistory.State().raids['" .. raid .. "'].difficulty"), "normal", "difficulty")
expect(eval("return LootHistory.State().raids['" .. raid .. "'].size"), 25, "raid size")
expect(eval("return LootHistory.State().raids['" .. raid .. "'].by"), "Aelric-Tally", "started by")
expect(eval("return select('#', LootHistory.RaidAttendance('" .. raid .. "'))"), 2, "names and completeness")
expect(eval("local n = LootHistory.RaidAttendance('" .. raid .. "') return #n"), 25, "25 at the start")
expect(eval("return select(2, LootHistory.RaidAttendance('" .. raid .. "'))"), true, "start snapshot complete")
-- 25 names do not fit one 240-byte field: the snapshot spans fields n1 and n2 of one entry.
expect(eval("local s = LootHistory.State().snapshots['" .. raid .. "'] return s.parts"), 1, "one attendance entry")
expect(eval("return LootHistory.State().snapshots['" .. raid .. "'].names[1][25]"), "Lunariaa1-Tally", "sorted, qualified")

-- Three leave before the first boss; one comes back before the second.
clients[23]:set_group(0)
clients[24]:set_group(0)
clients[25]:set_group(0)
tally.advance(120)
local lucifron = h.id(slash(gm, "/loot raid boss Lucifron"))
clients[25]:set_group(1, 5)
tally.advance(120)
local magmadar = h.id(slash(gm, "/loot raid boss Magmadar"))
h.settle()
expect(eval("local n = LootHistory.RaidAttendance('" .. lucifron .. "') return #n"), 22, "22 at Lucifron")
expect(eval("local n = LootHistory.RaidAttendance('" .. magmadar .. "') return #n"), 23, "23 at Magmadar")
local left = clients[23]:name() .. "-Tally"
expect(eval("for _, n in ipairs((LootHistory.RaidAttendance('" .. lucifron .. "'))) do if n == '" .. left .. "' then return true end end return false"),
  false, "who left is not in the boss snapshot")
expect(eval("return #LootHistory.State().raids['" .. raid .. "'].bosses"), 2, "two kills")
expect(eval("return LootHistory.State().raids['" .. raid .. "'].bosses[2].by"), "Aelric-Tally", "kill recorded by")
expect(eval("return LootHistory.State().raids['" .. raid .. "'].bosses[1].boss"), "Lucifron", "kill order")

local out = slash(gm, "/loot raid end")
local ended = h.id(out)
expect_find(out, "raid ended: Molten Core, 23 present", "end snapshot")
h.settle()
expect(eval("return LootHistory.State().raids['" .. raid .. "'].ended ~= nil"), true, "ended")
expect(eval("return LootHistory.State().raids['" .. raid .. "'].endEvent"), ended, "end event")
expect_find(slash(gm, "/loot raid end " .. raid), "already ended", "ending twice is refused")
expect_find(slash(gm, "/loot raid boss Ragnaros"), "no raid is running", "no boss kills after the end")

-- Show and list.
out = slash(gm, "/loot raid show " .. raid)
expect_find(out, "Molten Core (Thursday), started", "show header")
expect_find(out, "Lucifron: 22:", "boss attendance shown")
expect_find(out, "end: 23:", "end attendance shown")
slash(gm, "/loot raid start Onyxia's Lair")
h.settle()
out = slash(gm, "/loot raid list")
expect_find(out, "2 raid(s)", "two raids")
expect_find(out, "#2 ", "numbered")
expect_find(out, "Onyxia's Lair: 0 boss(es), 0 item(s), running", "the second raid runs")
expect_find(slash(gm, "/loot raid show #1"), "Thursday", "#n reference")

-- Packing: 40 long cross-realm names need several fields and several entries, each entry
-- within the limits (at most 3 name fields of at most 240 bytes, under 1024 encoded bytes).
local entries, worst, fields = gm:eval([[
  local names = {}
  for i = 1, 40 do names[i] = string.format("Name%08dx-%s", i, string.rep("R", 24)) end
  local entries = LootHistory.PackNames(names)
  local back, worst, fields = {}, 0, 0
  for part, f in ipairs(entries) do
    local data = { raid = string.rep("r", 25), event = string.rep("e", 25), part = part, parts = #entries }
    -- The payload encoding: a count byte; per field a name length, the name, a kind byte and
    -- the value (strings: a 1-2 byte length and the bytes; numbers: at most 10 bytes).
    local size = 1 + (1 + 4 + 1 + 1 + 25) + (1 + 5 + 1 + 1 + 25) + (1 + 4 + 1 + 10) + (1 + 5 + 1 + 10)
    assert(#f <= 3, "too many name fields")
    for i, text in ipairs(f) do
      assert(#text <= 240, "field too long")
      data["n" .. i] = text
      size = size + 1 + 2 + 1 + 2 + #text
      fields = fields + 1
    end
    worst = math.max(worst, size)
    for _, n in ipairs(LootHistory.UnpackNames(data)) do back[#back + 1] = n end
  end
  assert(#back == 40, "40 names back, got " .. #back)
  for i = 1, 40 do assert(back[i] == names[i], "name " .. i .. " came back as " .. tostring(back[i])) end
  return #entries, worst, fields
]])
expect(entries >= 2, true, "40 long names span several entries")
expect(fields >= 6, true, "and several fields")
expect(worst < 1024, true, "each entry under 1024 encoded bytes (" .. worst .. ")")
expect(gm:eval("return #LootHistory.PackNames({})"), 1, "an empty snapshot is still one entry")

-- present=: attendance typed by someone outside the group (or an import), not read from it.
local typed = h.id(h.slash(gm, "/loot raid start Onyxia's Lair present=zed,Ylva-Elsewhere,dagna"))
h.settle()
local names, complete = gm:eval("return LootHistory.RaidAttendance('" .. typed .. "')")
expect(table.concat(names, ","), "Dagna-Tally,Ylva-Elsewhere,Zed-Tally", "the names given, qualified and sorted")
expect(complete, true, "complete")
expect(gm:eval("return LootHistory.State().raids['" .. typed .. "'].size"), 3, "size counts them")
h.no_errors(clients)
print("raids: ok")
