-- LootHistory: CSV and JSON exports parse back, hold every roll and bid (not only the
-- winner's), corrections and raids with attendance, and are kept in LootHistoryDB.export.
-- Run: tally run <dir with LootHistory> --clients 5 --script test_export.lua
local h = dofile(debug.getinfo(1, "S").source:match("^@(.*[/\\])") .. "helpers.lua")
local expect, expect_find, slash = h.expect, h.expect_find, h.slash

local clients = tally.clients()
local gm = clients[1]
-- Offline, so their ledgers hold only their own entries (no sync): the empty export and the
-- long one below.
clients[2]:set_online(false)
clients[3]:set_online(false)

local raid = h.id(slash(gm, "/loot raid start Molten Core name=\"Thursday, alt run\""))
h.settle()
slash(gm, "/loot raid boss Ragnaros")
h.settle()
local drop = h.id(slash(gm, "/loot drop 17076 [Bonereaver's Edge] slot=twohand"))
slash(gm, "/loot roll last Brannoc need roll=87")
slash(gm, "/loot roll last Cyrielle need roll=91")
slash(gm, "/loot roll last Dagna greed roll=40")
slash(gm, "/loot roll last Eowald pass")
h.settle()
local edge = h.id(slash(gm, "/loot award 17076 Cyrielle need price=55 note=[said \"thanks\", then left]"))
local eye = h.id(slash(gm, "/loot award 19017 [Eye of Sulfuras] Brannoc need slot=token"))
local pants = h.id(slash(gm, "/loot award 16922 [Leggings of Transcendence] Dagna offspec slot=legs"))
h.settle()
slash(gm, "/loot reassign " .. eye .. " Dagna wrong winner")
slash(gm, "/loot disenchant " .. pants)
h.settle()
slash(gm, "/loot raid end")
h.settle()
-- A second raid, to check the raid filter.
slash(gm, "/loot raid start Onyxia's Lair")
h.settle()
local tooth = h.id(slash(gm, "/loot award 18705 [Mature Black Dragon Sinew] Fenwyn need"))
h.settle()

-- CSV: printed, kept, parses back with one row per item and every roll.
local out, lines = slash(gm, "/loot export csv")
expect_find(lines[1], "csv export of 4 item(s)", "csv header line")
local kept = gm:eval("return LootHistoryDB.export.text")
expect(gm:eval("return LootHistoryDB.export.format"), "csv", "kept format")
expect(table.concat(lines, "\n", 2), kept, "the printed export is the kept one")
local records, header = h.csv_records(kept)
expect(#records, 4, "csv rows")
expect(header[1], "id", "csv header")
local by_id = {}
for _, r in ipairs(records) do by_id[r.id] = r end
local r = by_id[edge]
expect(r.itemId, "17076", "csv item id")
expect(r.itemName, "Bonereaver's Edge", "csv item name")
expect(r.winner, "Cyrielle-Tally", "csv winner")
expect(r.price, "55", "csv price")
expect(r.boss, "Ragnaros", "csv boss")
expect(r.instance, "Molten Core", "csv instance")
expect(r.raidName, "Thursday, alt run", "a comma survives quoting")
expect(r.note, 'said "thanks", then left', "quotes and commas survive")
expect(r.awardedBy, "Aelric-Tally", "csv awarded by")
expect(r.rolls, "Brannoc-Tally:need:87:;Cyrielle-Tally:need:91:;Dagna-Tally:greed:40:;Eowald-Tally:pass::", "every roll, winners or not")
expect(r.context, "drop", "csv context")
expect(by_id[eye].winner, "Dagna-Tally", "csv current holder")
expect(by_id[eye].originalWinner, "Brannoc-Tally", "csv original winner")
expect(by_id[eye].reassignments, "Brannoc-Tally>Dagna-Tally", "csv reassignment")
expect(by_id[pants].disenchanted, "yes", "csv disenchanted")
expect(by_id[tooth].instance, "Onyxia's Lair", "second raid")

-- JSON: parses back (a strict decoder), the same items, rolls as objects, raids with attendance.
out, lines = slash(gm, "/loot export json")
expect(#lines, 2, "one line of JSON")
local doc = h.parse_json(lines[2])
expect(gm:eval("return LootHistoryDB.export.text"), lines[2], "kept json")
expect(doc.addon, "LootHistory", "json addon")
expect(doc.version, 1, "json version")
expect(#doc.loot, 4, "json items")
local j
for _, l in ipairs(doc.loot) do if l.id == edge then j = l end end
expect(j.itemId, 17076, "json item id")
expect(j.note, 'said "thanks", then left', "json note")
expect(j.drop, drop, "json drop")
expect(#j.rolls, 4, "json rolls")
expect(j.rolls[4].player, "Eowald-Tally", "a pass is kept")
expect(j.rolls[4].response, "pass", "pass")
expect(j.rolls[2].roll, 91, "the winning roll")
expect(j.dropTime <= j.time, true, "drop time before award time")
for _, l in ipairs(doc.loot) do
  if l.id == eye then
    expect(l.history[1].kind, "reassign", "json history")
    expect(l.history[1].reason, "wrong winner", "json history reason")
  end
end
expect(#doc.raids, 2, "json raids")
local mc = doc.raids[1]
expect(mc.id, raid, "json raid id")
expect(mc.name, "Thursday, alt run", "json raid label")
expect(#mc.startAttendance, 5, "json start attendance")
expect(mc.startAttendanceComplete, true, "complete")
expect(#mc.endAttendance, 5, "json end attendance")
expect(mc.bosses[1].boss, "Ragnaros", "json boss")
expect(#mc.bosses[1].attendance, 5, "json boss attendance")
expect(#mc.loot, 3, "json raid loot ids")
expect(doc.raids[2].ended, nil, "the second raid runs: no end")

-- Filters: one raid; the CSV and JSON of it agree.
local _, one = slash(gm, "/loot export json raid=#1")
doc = h.parse_json(one[2])
expect(#doc.loot, 3, "raid filter: items")
expect(#doc.raids, 1, "raid filter: raids")
_, one = slash(gm, "/loot export csv raid=" .. raid)
expect(#h.csv_records(table.concat(one, "\n", 2)), 3, "raid filter csv")
expect_find(slash(gm, "/loot export xml"), "usage: /loot export csv|json", "unknown format")
-- An empty history exports too.
local _, empty = slash(clients[2], "/loot export json")
expect(#h.parse_json(empty[2]).loot, 0, "empty export")
slash(clients[2], "/loot export csv")
expect(#h.csv_records(clients[2]:eval("return LootHistoryDB.export.text")), 0, "empty csv")

-- A long export is built over several frames (250 items per frame), so it never freezes one.
local big = clients[3]
slash(big, "/loot raid start Naxxramas")
for i = 1, 600 do
  big:slash(string.format("/loot award %d [Item %d] Dagna need price=%d", 20000 + i, i, i))
  if i % 200 == 0 then tally.advance(1) end
end
h.settle()
expect(big:eval("return #LootHistory.State().lootOrder"), 600, "600 items")
out = slash(big, "/loot export json")
expect_find(out, "building a json export of 600 item(s) over the next frames", "built over frames")
expect(big:eval("return LootHistoryDB.export"), nil, "not finished in the command's frame")
tally.advance(0.1)
local log = big:log()
expect_find(log[#log - 1], "json export of 600 item(s)", "finished later")
doc = h.parse_json(log[#log])
expect(#doc.loot, 600, "every item in the long export")
expect(doc.loot[600].itemName, "Item 600", "in order")
expect(doc.loot[600].price, 600, "last price")
slash(big, "/loot export csv")
tally.advance(0.1)
expect(#h.csv_records(big:eval("return LootHistoryDB.export.text")), 600, "long csv")
h.no_errors(clients)
print("export: ok")
