-- LootHistory: recording loot: item, winner, response, price, boss and instance taken when the
-- item dropped (not when it was awarded), raid, time, who awarded it, and the rolls.
-- Run: tally run <dir with LootHistory> --clients 5 --script test_loot.lua
local h = dofile(debug.getinfo(1, "S").source:match("^@(.*[/\\])") .. "helpers.lua")
local expect, expect_find, slash = h.expect, h.expect_find, h.slash

local clients = tally.clients()
local gm = clients[1]  -- Aelric: guild master and raid leader

local out = slash(gm, "/loot")
expect_find(out, "/loot award <item> <player> <response>", "help text")

local raid = h.id(slash(gm, "/loot raid start Molten Core name=Thursday"))
h.settle()
slash(gm, "/loot raid boss Lucifron")
h.settle()
-- Two items drop from Lucifron; the first by a chat link.
local boots = h.id(slash(gm, "/loot drop |cffa335ee|Hitem:16800::::::::60:::::|h[Arcanist Boots]|h|r slot=feet"))
local gloves = h.id(slash(gm, "/loot drop 16801 [Arcanist Gloves] slot=hands"))
slash(gm, "/loot roll " .. boots .. " Brannoc need roll=87")
slash(gm, "/loot roll " .. boots .. " cyrielle greed roll=12")
slash(gm, "/loot roll #2 Dagna offspec bid=15")
tally.advance(60)
-- The next boss dies before the boots are handed out: they must keep Lucifron.
slash(gm, "/loot raid boss Magmadar")
h.settle()
out = slash(gm, "/loot pending")
expect_find(out, "2 drop(s) waiting", "pending drops")
expect_find(out, "Brannoc need 87", "rolls listed with their drop")
tally.advance(30)
local award = h.id(slash(gm, "/loot award 16800 Brannoc need price=30"))
local edge = h.id(slash(gm, "/loot award 17076 [Bonereaver's Edge] dagna greed slot=twohand note=\"after Magmadar\""))
h.settle()

local state = gm:eval("return LootHistory.State().loot['" .. award .. "'].boss")
expect(state, "Lucifron", "boss at drop time, not award time")
local function loot_field(id, field) return gm:eval("return LootHistory.State().loot['" .. id .. "']." .. field) end
expect(loot_field(award, "context"), "drop", "context says the boss came from the drop")
expect(loot_field(award, "instance"), "Molten Core", "instance")
expect(loot_field(award, "item"), 16800, "item id")
expect(loot_field(award, "name"), "Arcanist Boots", "item name from the drop")
expect(loot_field(award, "slot"), "feet", "slot from the drop")
expect(loot_field(award, "winner"), "Brannoc-Tally", "winner, fully qualified")
expect(loot_field(award, "response"), "need", "response")
expect(loot_field(award, "price"), 30, "price")
expect(loot_field(award, "raid"), raid, "raid")
expect(loot_field(award, "by"), "Aelric-Tally", "who awarded it")
expect(loot_field(award, "drop"), boots, "the drop it came from")
expect(loot_field(award, "source"), "manual", "source")
local drop_time = gm:eval("return LootHistory.State().drops['" .. boots .. "'].time")
expect(loot_field(award, "dropTime"), drop_time, "drop time")
expect(loot_field(award, "time") - drop_time >= 90, true, "awarded 90 s after the drop")
expect(gm:eval("return LootHistory.State().drops['" .. boots .. "'].awarded"), award, "the drop is awarded")
expect(gm:eval("return #LootHistory.State().drops['" .. boots .. "'].rolls"), 2, "the boots' rolls")
expect(gm:eval("return LootHistory.State().drops['" .. gloves .. "'].rolls[1].bid"), 15, "a bid on the gloves")

-- Without a drop the newest boss kill is used, and the output says so.
expect(loot_field(edge, "boss"), "Magmadar", "newest kill for an item without a drop")
expect(loot_field(edge, "context"), "lastKill", "context lastKill")
expect(loot_field(edge, "note"), "after Magmadar", "quoted note")
expect(loot_field(edge, "winner"), "Dagna-Tally", "name case normalised")

-- A given boss wins over both.
local given = h.id(slash(gm, "/loot award 16801 Eowald need boss=[Gehennas]"))
h.settle()
expect(loot_field(given, "boss"), "Gehennas", "boss given")
expect(loot_field(given, "context"), "given", "context given")
expect(loot_field(given, "drop"), gloves, "still linked to the pending gloves drop")
expect(loot_field(given, "dropTime"), gm:eval("return LootHistory.State().drops['" .. gloves .. "'].time"), "drop time kept")

-- Bad input is refused before anything is recorded, with the reason.
local size = gm:eval("return LootHistory.Size()")
expect_find(slash(gm, "/loot award 16800 Brannoc maybe"), "usage: /loot award", "unknown response")
expect_find(slash(gm, "/loot award 16800 Brannoc need slot=elbow"), "unknown slot elbow", "unknown slot")
expect_find(slash(gm, "/loot award 16800 Brannoc need price=-5"), "price must be a number >= 0", "negative price")
expect_find(slash(gm, "/loot award Thunderfury Brannoc need"), "not an item: Thunderfury", "not an item")
expect_find(slash(gm, "/loot roll #9 Brannoc need"), "no drop #9", "unknown drop")
expect(gm:eval("return LootHistory.Size()"), size, "nothing recorded by bad commands")

-- Outside any raid, loot is still recorded, with no raid and no boss.
slash(gm, "/loot raid end")
h.settle()
local solo = h.id(slash(gm, "/loot award 19019 [Thunderfury] Fenwyn need"))
h.settle()
expect(loot_field(solo, "raid"), nil, "no raid")
expect(loot_field(solo, "context"), "none", "context none")
h.no_errors(clients)
print("loot: ok")
