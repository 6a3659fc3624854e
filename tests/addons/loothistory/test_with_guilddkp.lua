-- LootHistory next to GuildDKP in the shipped addons folder: both load, and an auction-won
-- message (sent by the test, as GuildDKP's closing officer would) is recorded. Asserts on
-- LootHistory only: GuildDKP is another addon with its own tests.
-- Run: tally run addons --clients 3 --script test_with_guilddkp.lua
local h = dofile(debug.getinfo(1, "S").source:match("^@(.*[/\\])") .. "helpers.lua")
local expect, expect_find = h.expect, h.expect_find

local clients = tally.clients()
local officer = clients[2]
expect(officer:eval("return type(LootHistory)"), "table", "LootHistory loaded beside GuildDKP")
h.slash(officer, "/loot raid start Molten Core")
h.settle()
local before = #officer:log()
officer:run([[Tally.SendMessage("GUILDDKP_AUCTION_WON", { itemId = 17076, itemName = "Bonereaver's Edge",
  winner = "Dagna", price = 120, entryId = "6924a000-00-0000-4b833c32", boss = "Ragnaros", response = "bid" })]])
h.settle()
local out = table.concat(officer:log(), "\n", before + 1)
expect_find(out, "LootHistory: recorded Bonereaver's Edge for Dagna at 120 DKP", "recorded")
expect(officer:eval("return LootHistory.State().loot['" .. h.id(out) .. "'].dkp"), "6924a000-00-0000-4b833c32", "DKP reference")
for _, c in ipairs(clients) do
  for _, line in ipairs(c:log(true)) do
    if line:find("LootHistory", 1, true) then error(c:name() .. ": " .. line) end
  end
end
print("with GuildDKP: ok")
