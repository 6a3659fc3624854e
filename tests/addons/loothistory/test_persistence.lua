-- LootHistory: the history, the settings and the last export survive logout and login: the
-- journal is replayed into the same state, and new entries can refer to old ones.
-- Run: tally run <dir with LootHistory> --clients 3 --saved <fresh dir> --script test_persistence.lua
local h = dofile(debug.getinfo(1, "S").source:match("^@(.*[/\\])") .. "helpers.lua")
local expect, expect_find, slash = h.expect, h.expect_find, h.slash

local clients = tally.clients()
local gm = clients[1]

local raid = h.id(slash(gm, "/loot raid start Molten Core"))
h.settle()
slash(gm, "/loot raid boss Lucifron")
h.settle()
slash(gm, "/loot drop 16800 [Arcanist Boots] slot=feet")
slash(gm, "/loot roll last Brannoc need roll=60")
h.settle()
local boots = h.id(slash(gm, "/loot award 16800 Brannoc need price=10"))
local horns = h.id(slash(gm, "/loot award 16808 [Felheart Horns] Cyrielle need slot=head"))
h.settle()
slash(gm, "/loot reassign " .. boots .. " Cyrielle trade")
local mistake = h.id(slash(gm, "/loot award 16808 [Felheart Horns] Brannoc need"))
h.settle()
local undo = h.id(slash(gm, "/loot undo " .. mistake))
slash(gm, "/loot officerrank 2")
h.settle()
slash(gm, "/loot export csv")
local before_dump, before_hash, before_size = h.dump(gm), gm:eval("return LootHistory.StateHash()"), gm:eval("return LootHistory.Size()")
local export = gm:eval("return LootHistoryDB.export.text")

gm:logout()
gm:login()
tally.advance(1)
expect(gm:eval("return LootHistory.Size()"), before_size, "every entry back from the journal")
expect(gm:eval("return LootHistory.StateHash()"), before_hash, "same state hash")
expect(h.dump(gm), before_dump, "same derived state")
expect(gm:eval("return LootHistoryDB.officerRank"), 2, "setting kept")
expect(gm:eval("return LootHistoryDB.export.text"), export, "last export kept")
expect(gm:eval("return LootHistory.State().loot['" .. boots .. "'].winner"), "Cyrielle-Tally", "correction kept")
expect(gm:eval("return LootHistory.State().loot['" .. mistake .. "']"), nil, "undo kept")

-- New entries after login refer to old ones: redo the undone award, end the old raid.
slash(gm, "/loot redo " .. undo)
expect_find(slash(gm, "/loot raid end"), "raid ended: Molten Core", "the raid from before the logout ends")
h.settle()
expect(gm:eval("return LootHistory.State().loot['" .. mistake .. "'].winner"), "Brannoc-Tally", "redo after login")
expect(gm:eval("return LootHistory.State().raids['" .. raid .. "'].ended ~= nil"), true, "ended after login")
expect(gm:eval("return #LootHistory.State().drops[LootHistory.State().dropOrder[1]].rolls"), 1, "rolls kept")

-- Twice more, with nothing new in between: still the same.
local dump = h.dump(gm)
gm:logout()
gm:login()
tally.advance(1)
expect(h.dump(gm), dump, "stable across a second login")
-- Right after login a long journal is still replaying (without freezing a frame): commands
-- say so instead of stalling, and an auction won meanwhile waits and is recorded after.
for i = 1, 300 do
  slash(gm, string.format("/loot award %d [Item %d] Dagna need", 30000 + i, i))
  if i % 200 == 0 then tally.advance(1) end
end
h.settle()
local size = gm:eval("return LootHistory.Size()")
gm:logout()
gm:login()
expect_find(slash(gm, "/loot player Dagna"), "still replaying", "commands wait for the replay")
local before = #gm:log()
gm:run([[Tally.SendMessage("GUILDDKP_AUCTION_WON", { itemId = 17076, itemName = "Bonereaver's Edge",
  winner = "Dagna", price = 5, entryId = "6924a000-00-0000-09de7dd5" })]])
expect_find(gm:log()[#gm:log()], "Bonereaver's Edge for Dagna waits: still replaying", "the auction waits")
tally.advance(2)
expect_find(table.concat(gm:log(), "\n", before + 1), "recorded Bonereaver's Edge for Dagna at 5 DKP", "recorded after the replay")
expect(gm:eval("return LootHistory.Size()"), size + 1, "recorded once")

-- Another character's ledger is its own journal under its own saved folder, filled by sync
-- (300 entries at the game's 800 bytes/s take about a minute).
for _ = 1, 60 do
  if clients[2]:eval("return LootHistory.Size()") == size + 1 then break end
  tally.advance(5)
end
expect(clients[2]:eval("return LootHistory.Size()"), size + 1, "Brannoc's ledger holds the same entries")
expect(clients[2]:eval("return LootHistory.StateHash()"), gm:eval("return LootHistory.StateHash()"), "and the same state")
h.no_errors(clients)
print("persistence: ok")
