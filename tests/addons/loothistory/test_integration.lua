-- LootHistory: a GuildDKP auction won (the GUILDDKP_AUCTION_WON message, sent here by the test
-- as GuildDKP would) becomes a loot entry with the price and the DKP entry's id.
-- Run: tally run <dir with LootHistory> --clients 5 --script test_integration.lua
local h = dofile(debug.getinfo(1, "S").source:match("^@(.*[/\\])") .. "helpers.lua")
local expect, expect_find = h.expect, h.expect_find

local clients = tally.clients()
local officer, member = clients[2], clients[4]

local function send(c, fields)
  local before = #c:log()
  c:run('Reached = Tally.SendMessage("GUILDDKP_AUCTION_WON", {' .. fields .. '})')
  h.settle()
  local log, lines = c:log(), {}
  for i = before + 1, #log do lines[#lines + 1] = log[i] end
  return table.concat(lines, "\n")
end
local function loot(c, id, field) return c:eval("local l = LootHistory.State().loot['" .. id .. "'] return l and l." .. field) end

h.slash(officer, "/loot raid start Molten Core")
h.settle()
h.slash(officer, "/loot raid boss Golemagg the Incinerator")
h.settle()
h.slash(officer, "/loot drop 17103 [Azuresong Mageblade] slot=mainhand")
h.settle()
h.slash(officer, "/loot roll last Cyrielle bid bid=70")
h.slash(officer, "/loot roll last Eowald bid bid=65")
tally.advance(30)
h.slash(officer, "/loot raid boss Sulfuron Harbinger")
h.settle()

-- Won with a boss named by GuildDKP.
local out = send(officer, [[itemId = 17076, itemName = "Bonereaver's Edge", winner = "Dagna", price = 120,
  entryId = "6924a000-00-0000-4b833c32", boss = "Ragnaros", response = "bid"]])
expect(officer:eval("return Reached"), 1, "LootHistory listens")
expect_find(out, "LootHistory: recorded Bonereaver's Edge for Dagna at 120 DKP", "recorded")
local edge = h.id(out)
expect(loot(officer, edge, "price"), 120, "price")
expect(loot(officer, edge, "dkp"), "6924a000-00-0000-4b833c32", "reference to the DKP entry")
expect(loot(officer, edge, "source"), "GuildDKP", "source")
expect(loot(officer, edge, "response"), "bid", "response")
expect(loot(officer, edge, "boss"), "Ragnaros", "boss from the auction")
expect(loot(officer, edge, "context"), "auction", "context auction")
expect(loot(officer, edge, "winner"), "Dagna-Tally", "winner")
expect(loot(officer, edge, "by"), "Brannoc-Tally", "the closing officer")
expect(officer:eval("return LootHistory.State().byDkp['6924a000-00-0000-4b833c32']"), edge, "found by DKP entry")

-- Without a boss: the pending drop of the same item gives boss, drop time and the bids.
out = send(officer, [[itemId = 17103, itemName = "Azuresong Mageblade", winner = "Cyrielle", price = 70,
  entryId = "6924a001-00-0000-4b833c32", response = "bid"]])
local blade = h.id(out)
expect(loot(officer, blade, "boss"), "Golemagg the Incinerator", "boss at drop time")
expect(loot(officer, blade, "context"), "drop", "context drop")
expect(loot(officer, blade, "slot"), "mainhand", "slot from the drop")
local _, json = h.slash(officer, "/loot export json")
local doc = h.parse_json(json[2])
for _, l in ipairs(doc.loot) do
  if l.id == blade then expect(#l.rolls, 2, "both bids exported, the loser's too") end
end

-- The same auction announced twice is recorded once.
out = send(officer, [[itemId = 17103, itemName = "Azuresong Mageblade", winner = "Cyrielle", price = 70,
  entryId = "6924a001-00-0000-4b833c32", response = "bid"]])
expect_find(out, "is already recorded", "duplicate")
expect(officer:eval("return #LootHistory.State().lootOrder"), 2, "two items")

-- A malformed message is reported and ignored.
out = send(officer, [[itemId = "x", itemName = "?", winner = "Dagna", price = 1, entryId = "e"]])
expect_find(out, "ignored GUILDDKP_AUCTION_WON: bad itemId", "malformed")
out = send(officer, [[itemId = 1, itemName = "Thing", winner = "Dagna", price = -1, entryId = "e"]])
expect_find(out, "bad price", "negative price")

-- Closed on a member's client (GuildDKP would not, but the message could come): refused.
local held = member:eval("return LootHistory.Size()")
out = send(member, [[itemId = 17076, itemName = "Bonereaver's Edge", winner = "Dagna", price = 120,
  entryId = "6924a002-00-0000-d7d1b202"]])
expect_find(out, "LootHistory: refused: Dagna is guild rank 3", "member refused")
expect(member:eval("return LootHistory.Size()"), held, "nothing recorded")
h.no_errors(clients)
print("integration: ok")
