-- LootHistory: questions: a player's loot, an item's owners, a raid's loot, loot counts per
-- player over a period (fairness), and when a player last got an item of a slot.
-- Run: tally run <dir with LootHistory> --clients 6 --script test_queries.lua
local h = dofile(debug.getinfo(1, "S").source:match("^@(.*[/\\])") .. "helpers.lua")
local expect, expect_find, slash = h.expect, h.expect_find, h.slash

local clients = tally.clients()
local gm = clients[1]
local function now() return gm:eval("return GetServerTime()") end

-- Week one: Molten Core, everyone there.
local mc = h.id(slash(gm, "/loot raid start Molten Core"))
h.settle()
slash(gm, "/loot raid boss Garr")
slash(gm, "/loot award 18564 [Bindings of the Windseeker] Brannoc need slot=token")
slash(gm, "/loot award 16808 [Felheart Horns] Dagna need slot=head")
slash(gm, "/loot award 16808 [Felheart Horns] Eowald offspec slot=head")
slash(gm, "/loot award 17063 [Band of Accuria] Dagna greed slot=finger")
h.settle()
slash(gm, "/loot raid end")
tally.advance(100)
local week_two = now()

-- Week two: Onyxia without Fenwyn.
clients[6]:set_group(0)
local ony = h.id(slash(gm, "/loot raid start Onyxia's Lair"))
h.settle()
slash(gm, "/loot raid boss Onyxia")
slash(gm, "/loot award 17078 [Sapphiron Drape] Cyrielle need slot=back")
slash(gm, "/loot award 16921 [Halo of Transcendence] Dagna need slot=head")
slash(gm, "/loot award 18205 [Eskhandar's Collar] Eowald greed slot=neck")
h.settle()
slash(gm, "/loot disenchant last")
h.settle()

-- A player's loot.
local out = slash(gm, "/loot player dagna")
expect_find(out, "Dagna has 3 item(s)", "Dagna's items")
expect_find(out, "Felheart Horns (16808) head -> Dagna need", "listed with slot and response")
expect(gm:eval("return #(LootHistory.PlayerLoot('Dagna'))"), 3, "PlayerLoot")

-- An item's owners, by id and by name.
out = slash(gm, "/loot item 16808")
expect_find(out, "16808: 2 recorded", "two Felheart Horns")
expect_find(out, "-> Dagna need", "first owner")
expect_find(out, "-> Eowald offspec", "second owner")
expect_find(slash(gm, "/loot item [felheart horns]"), "felheart horns: 2 recorded", "by name, any case")
expect(gm:eval("return LootHistory.ItemOwners(16808)[2].winner"), "Eowald-Tally", "ItemOwners in order")

-- A raid's loot list.
out = slash(gm, "/loot raid show " .. mc)
expect_find(out, "loot: 4 item(s)", "Molten Core's loot")
expect(gm:eval("return #LootHistory.RaidLoot('" .. ony .. "')"), 3, "Onyxia's loot")
expect(gm:eval("return #LootHistory.RaidLoot('#1')"), 4, "by #n")

-- Fairness: items kept (the disenchanted collar does not count) and raids attended.
out = slash(gm, "/loot counts")
expect_find(out, "Dagna              3 item(s)   2 raid(s)", "Dagna all time")
expect_find(out, "Eowald             1 item(s)   2 raid(s)", "Eowald: the collar was disenchanted")
expect_find(out, "Fenwyn             0 item(s)   1 raid(s)", "Fenwyn missed Onyxia")
local rows = gm:eval("local r = LootHistory.LootCounts() return r[1].name, r[1].items, r[#r].name")
expect(rows, "Dagna-Tally", "most items first")
out = slash(gm, "/loot counts since=" .. week_two)
expect_find(out, "Dagna              1 item(s)   1 raid(s)", "Dagna in week two")
expect_find(out, "Cyrielle           1 item(s)   1 raid(s)", "Cyrielle in week two")
expect(out:find("Fenwyn", 1, true), nil, "Fenwyn was not there in week two")
out = slash(gm, "/loot counts until=" .. (week_two - 1))
expect_find(out, "Dagna              2 item(s)   1 raid(s)", "Dagna in week one")
expect(out:find("Cyrielle           1", 1, true), nil, "Cyrielle got nothing in week one")
out = slash(gm, "/loot counts days=1")
expect_find(out, "Dagna              3 item(s)   2 raid(s)", "the last day holds everything")
expect_find(slash(gm, "/loot counts since=yesterday"), "dates are YYYY-MM-DD or Unix seconds", "bad date")
local today = gm:eval("return date('!%Y-%m-%d')")
expect_find(slash(gm, "/loot counts since=" .. today), "Dagna              3 item(s)", "since a date")

-- When did Dagna last get a head item? The Halo, in week two.
out = slash(gm, "/loot last Dagna head")
expect_find(out, "Dagna last got a head item on", "last head")
expect_find(out, "Halo of Transcendence", "the newest head item")
expect(gm:eval("return LootHistory.LastOfSlot('Dagna', 'head').name"), "Halo of Transcendence", "LastOfSlot")
expect_find(slash(gm, "/loot last Dagna feet"), "Dagna has no feet item recorded", "nothing for feet")
expect_find(slash(gm, "/loot last Eowald neck"), "Eowald has no neck item recorded", "disenchanted items do not count")
expect_find(slash(gm, "/loot last Dagna elbow"), "usage: /loot last", "unknown slot")
h.no_errors(clients)
print("queries: ok")
